// The program as a standard installation runs it: `pulumi up` in this folder (Pulumi.yaml's
// `main: dist/main.js`, after `npm run build`). Pulumi's Node.js runtime calls the exported
// function and takes its result as the stack outputs. run.ts runs the same program through the
// Automation API instead.
import { program } from "./index";

export = program;
