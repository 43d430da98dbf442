// Count the state transitions Step Functions would bill for one execution of a definition.
//
// usage: node sfn_transitions.mjs DEFINITION.json WIDTH
// prints one JSON line: {"status", "transitions", "tasks", "states": {name: times entered}, "error"}
//
// The definition runs on aws-local-stepfunctions 3.0.0 as compiled; every Task state is a local stub
// (no job runs: transitions depend on the graph, not on what a step does), answering as its service would
// for the fields the definitions read:
//   batch:submitJob(.sync)  -> {JobId, Parameters, Index, SplitParentTaskId}   (a Batch job; counted as one task;
//                              every key Metaflow's OutputPath union names: the interpreter fails a union with
//                              a missing key, where AWS keeps the keys that exist)
//   dynamodb:getItem        -> a foreach cardinality of WIDTH (Metaflow's Map reads it from DynamoDB)
//   dynamodb:* other        -> {}
// A Distributed Map's ItemReader (flowc's foreach list in S3) is not implemented by the interpreter: such a
// Map "M" runs as a Task "M" returning WIDTH items, then the Map "M~map" over them. "M~map" is the same
// billed state as "M", so it is not counted again.
//
// Metaflow's `OutputPath: "$.['JobId', 'Parameters', ...]"` (a union of quoted names) is not parsed by the
// interpreter's JSONPath library; it only selects which keys a state passes on, never which state runs next,
// so it becomes "$" here.
//
// Billing: a Standard workflow pays one transition per state entered, retries included; a Distributed Map's
// STANDARD child executions pay their own transitions the same way. So transitions = StateEntered events.
import { readFileSync } from "node:fs";
import { StateMachine } from "aws-local-stepfunctions";

const definition = JSON.parse(readFileSync(process.argv[2], "utf8"));
const width = Number(process.argv[3] ?? "1");
const handlers = {};
let tasks = 0;

function stub(name, state) {
  const resource = state.Resource ?? "";
  if (resource.includes(":batch:")) {
    return (input) => { tasks += 1; return { JobId: `job-${tasks}`, Parameters: input.Parameters ?? {}, Index: 0,
                                   SplitParentTaskId: "" }; };
  }
  if (resource.includes(":dynamodb:getItem")) {
    const ns = Array.from({ length: width }, (_, i) => String(i));
    return () => ({ Item: { for_each_cardinality: { NS: ns } } });
  }
  if (resource.includes(":dynamodb:")) return () => ({});
  throw new Error(`state ${name}: no stub for resource ${resource}`);
}

const QUOTED_UNION = /^\$\.?\[\s*'/;

function prepare(states) {
  for (const [name, state] of Object.entries({ ...states })) {
    if (QUOTED_UNION.test(state.OutputPath ?? "")) state.OutputPath = "$";
    if (state.Type === "Task") handlers[name] = stub(name, state);
    for (const branch of state.Branches ?? []) prepare(branch.States);
    if (state.Type === "Map" && state.ItemReader) {
      const { ItemReader, ...map } = state;
      states[name] = { Type: "Task", Resource: "arn:aws:states:::s3:getObject", ResultPath: "$.bench_items",
                       Next: `${name}~map` };
      handlers[name] = () => Array.from({ length: width }, (_, i) => i);
      states[`${name}~map`] = { ...map, ItemsPath: "$.bench_items" };
    }
    if (state.ItemProcessor) prepare(state.ItemProcessor.States);
    if (state.Iterator) prepare(state.Iterator.States);
  }
}
prepare(definition.States);

const machine = new StateMachine(definition, { validationOptions: { checkPaths: false, checkArn: false } });
const execution = machine.run({}, {
  overrides: { taskResourceLocalHandlers: handlers },
  context: { Execution: { Name: "bench-run", Id: "bench" } },
});
const entered = {};
let transitions = 0;
let status = "SUCCEEDED";
let error = "";
const done = execution.result.catch((e) => { status = "FAILED"; error = String(e); });
for await (const event of execution.eventLogs) {
  if (event.type !== "StateEntered") continue;
  const name = event.state.name;
  if (name.endsWith("~map")) continue;
  entered[name] = (entered[name] ?? 0) + 1;
  transitions += 1;
}
await done;
console.log(JSON.stringify({ status, error, transitions, tasks, states: entered }));
