// Runs the program in index.ts through the Automation API:
//
//   node dist/run.js <up|preview|refresh|destroy> [--stack NAME] [--work-dir DIR]
//                    [--config FILE.json] [--expect-no-changes] [--remove]
//
// Plain `pulumi up` would start the Node.js language host to run the program; the Automation
// API serves the program from this Node.js process instead (an "inline" program), so only the
// `pulumi` CLI and the provider plugin are needed. The project is the Pulumi.yaml in the work
// directory (default: this folder); the stack is created on first use. --config sets stack
// config from a JSON object (strings as they are, anything else as JSON). The engine's
// progress goes to stderr; the last line on stdout is a JSON summary: the operation, the
// change summary, the stack outputs and, per resource, the steps, the changed properties and
// the inputs the engine planned.
import * as path from "path";
import * as fs from "fs";
import { ConfigMap, EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { program } from "./index";

const PROJECT = "dda-model-typescript";

interface Args {
    operation: string;
    stack: string;
    workDir: string;
    config?: string;
    expectNoChanges: boolean;
    remove: boolean;
}

function parseArgs(argv: string[]): Args {
    const args: Args = {
        operation: "",
        stack: "dev",
        workDir: path.resolve(__dirname, ".."),
        expectNoChanges: false,
        remove: false,
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--stack") args.stack = argv[++i];
        else if (arg === "--work-dir") args.workDir = path.resolve(argv[++i]);
        else if (arg === "--config") args.config = argv[++i];
        else if (arg === "--expect-no-changes") args.expectNoChanges = true;
        else if (arg === "--remove") args.remove = true;
        else if (!arg.startsWith("-") && !args.operation) args.operation = arg;
        else throw new Error(`unknown argument ${arg}`);
    }
    if (!["up", "preview", "refresh", "destroy"].includes(args.operation)) {
        throw new Error("usage: run.js <up|preview|refresh|destroy> [--stack NAME] [--work-dir DIR] "
            + "[--config FILE.json] [--expect-no-changes] [--remove]");
    }
    return args;
}

/** Steps, changed properties and planned inputs per resource (by name), from the engine's events. */
class Steps {
    readonly ops: Record<string, string[]> = {};
    readonly diffs: Record<string, string[]> = {};
    readonly inputs: Record<string, unknown> = {};

    readonly onEvent = (event: EngineEvent): void => {
        const meta = event.resourcePreEvent?.metadata;
        if (!meta || !meta.type.startsWith("dda:")) return;
        const name = meta.urn.split("::").pop() as string;
        (this.ops[name] ??= []).push(meta.op);
        const changed = new Set([...(this.diffs[name] ?? []), ...(meta.diffs ?? []), ...(meta.keys ?? [])]);
        // What a --diff preview shows changing: new inputs against the old outputs (a provider
        // without previews), leaving out the `__` state the engine never displays.
        const olds = meta.old?.outputs ?? meta.old?.inputs ?? {};
        const news = meta.new?.inputs ?? {};
        if (meta.old && meta.new) {
            for (const key of Object.keys(news)) {
                if (key.startsWith("__")) continue;
                if (JSON.stringify(olds[key]) !== JSON.stringify(news[key])) changed.add(key);
            }
        }
        this.diffs[name] = [...changed].sort();
        if (meta.new) this.inputs[name] = meta.new.inputs;
    };
}

function configMap(file: string): ConfigMap {
    const values = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    const config: ConfigMap = {};
    for (const [key, value] of Object.entries(values)) {
        config[key] = { value: typeof value === "string" ? value : JSON.stringify(value) };
    }
    return config;
}

async function run(stack: Stack, args: Args, steps: Steps): Promise<Record<string, unknown>> {
    const onOutput = (out: string) => process.stderr.write(out);
    const common = { onOutput, onEvent: steps.onEvent };
    switch (args.operation) {
        case "up": {
            const result = await stack.up(common);
            const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.value]));
            return { changeSummary: result.summary.resourceChanges, outputs };
        }
        case "preview": {
            const result = await stack.preview({ ...common, expectNoChanges: args.expectNoChanges });
            return { changeSummary: result.changeSummary };
        }
        case "refresh": {
            const result = await stack.refresh({ ...common, expectNoChanges: args.expectNoChanges });
            return { changeSummary: result.summary.resourceChanges };
        }
        default: {
            const result = await stack.destroy(common);
            if (args.remove) await stack.workspace.removeStack(stack.name);
            return { changeSummary: result.summary.resourceChanges };
        }
    }
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    // `pulumi` from PATH (the CLI built by tools/pulumi/build.sh in this repository).
    const pulumiCommand = await PulumiCommand.get();
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: args.stack, projectName: PROJECT, program },
        { workDir: args.workDir, pulumiCommand },
    );
    if (args.config) await stack.setAllConfig(configMap(args.config));
    const steps = new Steps();
    const summary = await run(stack, args, steps);
    process.stdout.write(JSON.stringify({
        operation: args.operation, ...summary, ops: steps.ops, diffs: steps.diffs, inputs: steps.inputs,
    }) + "\n");
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
