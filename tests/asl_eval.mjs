// Evaluate Task Parameters with aws-local-stepfunctions 3.0.0, as the service does before calling a Task.
//
// usage: node asl_eval.mjs CASES.json   CASES: [{"parameters": {...}, "input": {...}, "executionName": "..."}]
// prints one JSON array: each case's evaluated parameters, or {"error": message}.
// Each case runs as a one-state machine: a Pass state whose Parameters are the case's.
import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

const results = [];
for (const c of JSON.parse(readFileSync(process.argv[2], "utf8"))) {
  try {
    const machine = new StateMachine({ StartAt: "p", States: { p: { Type: "Pass", Parameters: c.parameters, End: true } } },
                                     { validationOptions: { checkPaths: true, checkArn: false } });
    results.push(await machine.run(c.input, { context: { Execution: { Name: c.executionName, Id: "local" } } }).result);
  } catch (e) {
    results.push({ error: String(e) });
  }
}
console.log(JSON.stringify(results));
