// Command pulumi-language-nodejs is a minimal Node.js language host: it runs a compiled
// JavaScript program under plain `pulumi up` with the program's own @pulumi/pulumi.
//
// Upstream's host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// served by the module proxy reachable here. This one implements what a program needs:
//   - Handshake, GetPluginInfo
//   - GetRequiredPlugins / GetRequiredPackages: none (plugins come from the project's
//     `packages:` entries or the plugin cache, as a resource's package names them)
//   - Run: `node <program>/node_modules/@pulumi/pulumi/cmd/run --monitor … PROGRAM`, the
//     contract of the SDK's own runner (flags, PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS in the
//     environment, exit code 32 = "error already shown")
//
// TypeScript is not compiled here (no ts-node): the project's `main` names the compiled
// JavaScript entry (e.g. `main: dist/main.js`), whose module exports the program
// (`export = program`: the runtime calls an exported function and takes its result as the
// stack outputs). Everything else (code generation, `pulumi install`, policy packs,
// templates) answers Unimplemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Exit code the SDK's runner uses to say "an error was already shown to the user".
const exitedAfterShowingUserActionableMessage = 32

// How often the host asks the engine whether it is still there.
const engineHealthInterval = time.Second

func main() {
	fs := flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
	// Flags the engine may pass; accepted so that parsing never fails.
	fs.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	fs.Bool("logtostderr", false, "Log to stderr (ignored)")
	fs.Bool("logflow", false, "Flow logging settings to child processes (ignored)")
	fs.Int("v", 0, "Log verbosity (ignored)")
	fs.Bool("typescript", false, "Use ts-node (not supported: name the compiled entry in `main`)")
	fs.String("root", "", "Project root path (ignored)")
	fs.String("tsconfig", "", "tsconfig path (ignored)")
	fs.String("nodeargs", "", "Extra node arguments (ignored)")
	fs.String("packagemanager", "", "Package manager (ignored)")
	versionFlag := fs.Bool("version", false, "Print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	if *versionFlag {
		fmt.Println(version.Version)
		return
	}
	host := &languageHost{}
	if fs.NArg() > 0 {
		host.engineAddress = fs.Arg(0)
	}

	cancel := make(chan bool)
	var stopping sync.Once
	stop := func() { stopping.Do(func() { close(cancel) }) }
	host.watch = func(address string) {
		host.watching.Do(func() {
			_ = rpcutil.Healthcheck(context.Background(), address, engineHealthInterval, stop)
		})
	}
	if host.engineAddress != "" {
		host.watch(host.engineAddress)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	watch    func(address string) // starts the engine health check (once)
	watching sync.Once

	mu            sync.Mutex
	engineAddress string
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
		if h.watch != nil {
			h.watch(h.engineAddress)
		}
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    string(out),
		Metadata:   map[string]string{"host": "pulumi-dda minimal language host"},
	}, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	runner, err := findRunner(programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	program := req.GetProgram()
	if entry := info.GetEntryPoint(); entry != "" && entry != "." {
		program = filepath.Join(programDir, entry)
	}
	if program == "" || program == "." {
		program = programDir
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := []string{runner,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root-directory", info.GetRootDirectory(),
	}
	if req.GetPwd() != "" {
		args = append(args, "--pwd", req.GetPwd())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{} // "null" would not be a valid config bag
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
		"PULUMI_NODEJS_TYPESCRIPT=false",
	)
	cmd.Dir = programDir
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	// The engine relays the language host's own output streams to the user.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitedAfterShowingUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// findRunner finds the SDK's program runner as node resolves @pulumi/pulumi from the program:
// node_modules of the program's folder or of a folder above it.
func findRunner(programDir string) (string, error) {
	for dir := programDir; ; dir = filepath.Dir(dir) {
		runner := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if _, err := os.Stat(runner); err == nil {
			return runner, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no node_modules/@pulumi/pulumi in %s or above: "+
				"install the program's packages (npm ci)", programDir)
		}
	}
}
