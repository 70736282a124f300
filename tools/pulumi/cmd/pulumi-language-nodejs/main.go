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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/pulumi-dda/tools/pulumi/langhost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	fs, versionFlag := langhost.NewFlags()
	fs.Bool("typescript", false, "Use ts-node (not supported: name the compiled entry in `main`)")
	fs.String("root", "", "Project root path (ignored)")
	fs.String("tsconfig", "", "tsconfig path (ignored)")
	fs.String("nodeargs", "", "Extra node arguments (ignored)")
	fs.String("packagemanager", "", "Package manager (ignored)")
	if !langhost.Parse(fs, versionFlag) {
		return
	}
	host := &languageHost{}
	langhost.Serve(&host.Base, fs.Arg(0), host)
}

type languageHost struct {
	langhost.Base
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
		"--engine", h.Engine(),
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

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(append(os.Environ(), env...), "PULUMI_NODEJS_TYPESCRIPT=false")
	cmd.Dir = programDir
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	return langhost.RunProgram(cmd), nil
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
