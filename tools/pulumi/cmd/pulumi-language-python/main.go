// Command pulumi-language-python is a small Python language host for the
// Pulumi engine, built from the sdk/v3 Go module.
//
// Upstream's host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) that
// has no tags and that the Go module proxy reachable from our machines does
// not serve, so we keep this minimal host instead. It implements what
// `pulumi stack init|up|preview|refresh|destroy|install|about` need for a
// Python program (including dynamic providers), reusing the sdk's own Python
// toolchain code (pip / uv / poetry virtualenv handling):
//
//   - Handshake, GetPluginInfo, About, RuntimeOptionsPrompts
//   - GetRequiredPackages / GetRequiredPlugins: reports no packages (this
//     project uses no provider plugins besides the dynamic `pulumi-python`
//     one, which the engine finds beside the `pulumi` binary or on PATH)
//   - GetProgramDependencies: the virtualenv's installed packages
//   - InstallDependencies: creates the virtualenv and installs requirements
//   - Run: runs `python -u pulumi-language-python-exec ... PROGRAM`
//   - RunPlugin: runs a Python plugin folder (PulumiPlugin.yaml + __main__.py),
//     e.g. the pulumi-dda provider named by a `packages:` entry of a YAML project
//
// Everything else (code generation, policy packs, packing) answers
// Unimplemented.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"github.com/pulumi-dda/tools/pulumi/langhost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// Name of the Python launcher that runs the user program.
const execScriptName = "pulumi-language-python-exec"

func main() {
	fs, versionFlag := langhost.NewFlags()
	virtualenv := fs.String("virtualenv", "", "Virtual environment path (prefer runtime.options.virtualenv)")
	root := fs.String("root", "", "Project root path (prefer ProgramInfo)")
	fs.String("typechecker", "", "Type checker (ignored)")
	toolchainFlag := fs.String("toolchain", "", "Python toolchain: pip, poetry or uv")
	fs.Bool("use-language-version-tools", false, "Use pyenv (ignored)")
	if !langhost.Parse(fs, versionFlag) {
		return
	}
	host := &languageHost{virtualenv: *virtualenv, root: *root, toolchain: *toolchainFlag}
	langhost.Serve(&host.Base, fs.Arg(0), host)
}

type languageHost struct {
	langhost.Base

	mu         sync.Mutex
	virtualenv string
	root       string
	toolchain  string
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.RootDirectory != nil && *req.RootDirectory != "" {
		h.mu.Lock()
		h.root = *req.RootDirectory
		h.mu.Unlock()
	}
	return h.Base.Handshake(ctx, req)
}

// resolveToolchain builds the sdk's Python toolchain for the program (runtime.options in
// Pulumi.yaml), falling back to the host's command-line flags.
func (h *languageHost) resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, string, error) {
	h.mu.Lock()
	defaults := toolchainSettings{root: h.root, virtualenv: h.virtualenv, toolchain: h.toolchain}
	h.mu.Unlock()
	return newToolchain(info, defaults)
}

// toolchainSettings are the options a toolchain is resolved from when ProgramInfo lacks them.
type toolchainSettings struct {
	root, virtualenv, toolchain string
	// plugin: a plugin never runs in the ambient Python; pip defaults to ./venv (upstream's rule).
	plugin bool
}

func newToolchain(info *pulumirpc.ProgramInfo, settings toolchainSettings) (toolchain.Toolchain, string, error) {
	root, venv, tcName := settings.root, settings.virtualenv, settings.toolchain
	programDir := ""
	if info != nil {
		if info.GetRootDirectory() != "" {
			root = info.GetRootDirectory()
		}
		programDir = info.GetProgramDirectory()
		if opts := info.GetOptions().AsMap(); opts != nil {
			if v, ok := opts["virtualenv"].(string); ok && v != "" {
				venv = v
			}
			if v, ok := opts["toolchain"].(string); ok && v != "" {
				tcName = v
			}
		}
	}
	if root == "" {
		if wd, err := os.Getwd(); err == nil {
			root = wd
		}
	}
	if programDir == "" {
		programDir = root
	}

	opts := toolchain.PythonOptions{Root: root, ProgramDir: programDir, Virtualenv: venv}
	switch strings.ToLower(tcName) {
	case "", "auto":
		opts.Toolchain = toolchain.Auto
	case "pip":
		opts.Toolchain = toolchain.Pip
	case "poetry":
		opts.Toolchain = toolchain.Poetry
	case "uv":
		opts.Toolchain = toolchain.Uv
	default:
		return nil, "", fmt.Errorf("unsupported Python toolchain %q (want pip, poetry or uv)", tcName)
	}
	if settings.plugin && opts.Toolchain == toolchain.Pip && venv == "" {
		opts.Virtualenv = "venv"
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, "", err
	}
	return tc, programDir, nil
}

func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, _, err := h.resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"host": "pulumi-dda minimal language host"},
	}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, _, err := h.resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pkgs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

// streamWriter forwards dependency installation output to the engine.
type streamWriter struct {
	mu     *sync.Mutex
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := append([]byte(nil), p...)
	msg := &pulumirpc.InstallDependenciesResponse{Stdout: b}
	if w.stderr {
		msg = &pulumirpc.InstallDependenciesResponse{Stderr: b}
	}
	if err := w.stream.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, programDir, err := h.resolveToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	var mu sync.Mutex
	stdout := streamWriter{mu: &mu, stream: stream}
	stderr := streamWriter{mu: &mu, stream: stream, stderr: true}
	return tc.InstallDependencies(stream.Context(), programDir, req.GetUseLanguageVersionTools(),
		true /*showOutput*/, stdout, stderr)
}

// findExecScript looks for the program launcher beside this binary, then on PATH.
func findExecScript() (string, error) {
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		candidate := filepath.Join(filepath.Dir(self), execScriptName)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	path, err := exec.LookPath(execScriptName)
	if err != nil {
		return "", fmt.Errorf("could not find %s beside %s or on PATH", execScriptName, os.Args[0])
	}
	return path, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	tc, programDir, err := h.resolveToolchain(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	script, err := findExecScript()
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	program := req.GetProgram()
	if info != nil && info.GetEntryPoint() != "" {
		program = filepath.Join(programDir, info.GetEntryPoint())
	}
	if program == "" {
		program = programDir
	}

	rootDir := ""
	if info != nil {
		rootDir = info.GetRootDirectory()
	}

	args := []string{"-u", script,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.Engine(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--organization", req.GetOrganization(),
		"--root_directory", rootDir,
	}
	if req.GetPwd() != "" {
		args = append(args, "--pwd", req.GetPwd())
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, env...)
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	} else {
		cmd.Dir = programDir
	}
	return langhost.RunProgram(cmd), nil
}

var _ io.Writer = streamWriter{}

// RunPlugin runs a provider (or other) plugin written in Python: a plugin folder whose
// PulumiPlugin.yaml says `runtime: python` and that holds a __main__.py. The engine uses this
// for `packages:` entries of Pulumi.yaml that name such a folder. The plugin runs as
// `<python> -u <folder> ARGS...` with the Python of the toolchain the folder's runtime options
// name (resolved from the plugin folder, never from the project that uses it; pip without a
// virtualenv option means ./venv, as upstream's host does), in the engine's working directory
// and environment. Its output streams back to the engine; a non-zero exit is reported as an
// exit code, the process is killed when the engine cancels the call.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	if info == nil || info.GetProgramDirectory() == "" {
		return errors.New("RunPlugin: the request names no plugin directory")
	}
	tc, pluginDir, err := newToolchain(info, toolchainSettings{root: info.GetRootDirectory(), plugin: true})
	if err != nil {
		return fmt.Errorf("plugin %s: %w", info.GetProgramDirectory(), err)
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "__main__.py")); err != nil {
		return fmt.Errorf("plugin %s has no __main__.py: %w", pluginDir, err)
	}
	ctx := server.Context()
	if err := tc.ValidateVenv(ctx); err != nil {
		return fmt.Errorf("plugin %s: %w", pluginDir, err)
	}
	args := append([]string{"-u", pluginDir}, req.GetArgs()...)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", pluginDir, err)
	}
	// The engine's environment, with the plugin's virtualenv activated on top of it.
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
		env = toolchain.ActivateVirtualEnv(env, venv)
	}
	cmd.Env = env
	cmd.Dir = req.GetPwd()
	if cmd.Dir == "" {
		cmd.Dir = pluginDir
	}

	// exec copies stdout and stderr on two goroutines; gRPC streams allow one sender at a time.
	var mu sync.Mutex
	send := func(msg *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return server.Send(msg)
	}
	cmd.Stdout = sendWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	})
	cmd.Stderr = sendWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())}, //nolint:gosec
			})
		}
		return fmt.Errorf("running plugin %s: %w", pluginDir, err)
	}
	return nil
}

// sendWriter is an io.Writer that sends a copy of each write.
type sendWriter func([]byte) error

func (w sendWriter) Write(p []byte) (int, error) {
	if err := w(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
