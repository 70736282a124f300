// Package langhost is what this repository's minimal language hosts (cmd/pulumi-language-python
// and cmd/pulumi-language-nodejs) share: their command line, serving the LanguageRuntime over
// gRPC while the engine is alive, the engine's address, the answers that are the same for both,
// a program's config environment and how its exit becomes a RunResponse.
package langhost

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Exit code the SDKs' runners use to say "an error was already shown to the user".
const exitedAfterShowingUserActionableMessage = 32

// How often a host asks the engine whether it is still there.
const engineHealthInterval = time.Second

// NewFlags is the host's flag set with the flags every host accepts and ignores (so that
// parsing what the engine passes never fails) and -version.
func NewFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
	fs.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (ignored)")
	fs.Bool("logtostderr", false, "Log to stderr (ignored)")
	fs.Bool("logflow", false, "Flow logging settings to child processes (ignored)")
	fs.Int("v", 0, "Log verbosity (ignored)")
	return fs, fs.Bool("version", false, "Print the version and exit")
}

// Parse parses the command line; false when the host has nothing more to do (-help, -version;
// a usage error exits with status 2).
func Parse(fs *flag.FlagSet, versionFlag *bool) bool {
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false
		}
		os.Exit(2)
	}
	if *versionFlag {
		fmt.Println(version.Version)
		return false
	}
	return true
}

// Base is embedded by a host: the engine's address (from the command line or the handshake)
// and the answers both hosts give alike.
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	watch         func(address string) // starts the engine health check (once)
	watching      sync.Once
}

// Engine is the engine's address.
func (b *Base) Engine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.engineAddress
}

func (b *Base) setEngine(address string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if address == "" {
		return
	}
	b.engineAddress = address
	if b.watch != nil {
		b.watch(address)
	}
}

func (b *Base) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.setEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins: none (plugins come from the project's `packages:` entries or the plugin
// cache, as a resource's package names them).
func (b *Base) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (b *Base) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (b *Base) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// Serve serves host (which embeds base) until the engine goes away, printing the port on the
// first line of stdout as the engine expects. A host whose engine died (the CLI killed) stops
// serving: the running program's call is cancelled with the engine's connection (its process
// is started with that context, so it is killed), and the host exits instead of waiting for an
// engine that never comes back.
func Serve(base *Base, engineAddress string, host pulumirpc.LanguageRuntimeServer) {
	cancel := make(chan bool)
	var stopping sync.Once
	stop := func() { stopping.Do(func() { close(cancel) }) }
	base.watch = func(address string) {
		base.watching.Do(func() {
			_ = rpcutil.Healthcheck(context.Background(), address, engineHealthInterval, stop)
		})
	}
	base.setEngine(engineAddress)
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
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "fatal: language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

// ConfigEnv is the program's stack config as the SDKs' runners read it from the environment.
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
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
	return []string{
		"PULUMI_CONFIG=" + string(config),
		"PULUMI_CONFIG_SECRET_KEYS=" + string(secretKeysJSON),
	}, nil
}

// RunProgram runs the program's process with the engine relaying its output streams, and says
// how it ended: bail when the runner already showed the error (exit code 32).
func RunProgram(cmd *exec.Cmd) *pulumirpc.RunResponse {
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitedAfterShowingUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}
	}
	return &pulumirpc.RunResponse{}
}
