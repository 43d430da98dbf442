// Run a compiled flowc state machine with aws-local-stepfunctions 3.0.0, each Batch Task as a local process.
//
// usage: node sfn_run.mjs DEFINITION.json INPUT_JSON CONFIG_JSON
//   CONFIG_JSON: {"cwd": code root, "executionName": run id, "python": interpreter with boto3}
// prints one JSON line: {"status": "SUCCEEDED"|"FAILED", "error", "calls": [{state, argv, exitCode}],
//   "reads": [{state, key}] (the S3 reads of gap 2)}
//
// Each Task state's evaluated ContainerOverrides.Command runs as an argv list (no shell) with its
// ContainerOverrides.Environment added to this process's environment; a job that exits non-zero fails the
// Task with States.TaskFailed and, as Batch's integration does, the job description (with
// Container.ExitCode) as the error's Cause. The definition runs as compiled except for exactly two gaps of
// this interpreter, bridged below and nowhere else:
//  1. ItemReader (a Distributed Map reading its items from S3) is not implemented: such a Map state
//     "M" becomes a Task state "M" whose Parameters are the ItemReader's own Parameters (so the
//     compiled Bucket / Key.$ expressions are evaluated by the interpreter) and whose local handler
//     reads that object from S3 (AWS_ENDPOINT_URL), followed by the Map "M~map" reading those items with
//     ItemsPath. ItemSelector, ItemProcessor and everything else in the Map are untouched.
//  2. AWS SDK integrations are not called: a Task state whose Resource is `aws-sdk:s3:getObject` (the read
//     of a switch's branch.json) gets a local handler that reads the object named by the Task's evaluated
//     Parameters (Bucket, Key) from S3 (AWS_ENDPOINT_URL) and returns `{"Body": <the object as text>}`,
//     the shape the SDK integration returns; the state's ResultSelector, ResultPath and Retry run as compiled.
import { readFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { StateMachine, ExecutionError } from "aws-local-stepfunctions";

const definition = JSON.parse(readFileSync(process.argv[2], "utf8"));
const input = JSON.parse(process.argv[3] ?? "{}");
const config = JSON.parse(process.argv[4] ?? "{}");
const calls = [];
const reads = [];  // gap 2's reads, in order: {state, key}
const handlers = {};
const BRIDGE_ITEMS = "$.flowc_bridge_items";

function runCommand(stateName, parameters) {
  const overrides = parameters.ContainerOverrides;
  const argv = [...overrides.Command];
  const env = { ...process.env };
  for (const { Name, Value } of overrides.Environment ?? []) env[Name] = Value;
  return new Promise((resolve, reject) => {
    execFile(argv[0], argv.slice(1), { cwd: config.cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const exitCode = error ? (error.code ?? 1) : 0;
      calls.push({ state: stateName, argv, exitCode, stderr: exitCode ? stderr.slice(-2000) : "" });
      if (exitCode === 0) return resolve({});
      // The Cause Batch gives (abridged): the job description, whose Container.ExitCode the retry loop reads.
      const job = { JobName: parameters.JobName, Status: "FAILED", StatusReason: "Essential container in task exited",
                    Container: { ExitCode: exitCode } };
      const failure = new Error(JSON.stringify(job));
      failure.name = "States.TaskFailed";
      reject(failure);
    });
  });
}

// gaps 1 and 2: an s3:getObject made with boto3 (signed, as the real service would) against the S3
// endpoint in AWS_ENDPOINT_URL; the argv carries bucket and key as separate items.
const READ_OBJECT = "import sys, boto3; sys.stdout.buffer.write(boto3.client('s3').get_object(" +
  "Bucket=sys.argv[1], Key=sys.argv[2])['Body'].read())";
const SDK_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject";
function readObject(who, parameters) {
  return new Promise((resolve, reject) => {
    execFile(config.python, ["-c", READ_OBJECT, parameters.Bucket, parameters.Key], { maxBuffer: 256 << 20 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const failure = new Error(`${who}: s3://${parameters.Bucket}/${parameters.Key}: ${stderr.slice(-500)}`);
        failure.name = "S3.NoSuchKeyException";
        reject(failure);
      });
  });
}
const readItems = async (parameters) => JSON.parse(await readObject("ItemReader", parameters));
function sdkGetObject(stateName, parameters) {
  reads.push({ state: stateName, key: parameters.Key });
  return readObject(stateName, parameters).then((body) => ({ Body: body }));
}

function prepare(states) {
  for (const [name, state] of Object.entries({ ...states })) {
    if (state.Type === "Task" && state.Resource === SDK_GET_OBJECT) {
      handlers[name] = (parameters) => sdkGetObject(name, parameters);
    } else if (state.Type === "Task") handlers[name] = (parameters) => runCommand(name, parameters);
    for (const branch of state.Branches ?? []) prepare(branch.States);
    if (state.Type === "Map" && state.ItemReader) {
      const { ItemReader, ...map } = state;
      const mapName = `${name}~map`;
      states[name] = { Type: "Task", Resource: "arn:aws:states:::s3:getObject", Parameters: ItemReader.Parameters,
                       ResultPath: BRIDGE_ITEMS, Next: mapName };
      handlers[name] = readItems;
      states[mapName] = { ...map, ItemsPath: BRIDGE_ITEMS };
    }
    if (state.ItemProcessor) prepare(state.ItemProcessor.States);
  }
}
prepare(definition.States);

const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: false } });
const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((n) => [n, 0]));
const execution = machine.run(input, {
  overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
  context: { Execution: { Name: config.executionName ?? "local-run", Id: "local" } },
});
try {
  await execution.result;
  console.log(JSON.stringify({ status: "SUCCEEDED", calls, reads }));
} catch (e) {
  const error = e instanceof ExecutionError ? e.message : String(e);
  console.log(JSON.stringify({ status: "FAILED", error, calls, reads }));
}
