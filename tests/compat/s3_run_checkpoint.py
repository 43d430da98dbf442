"""Metaflow's docs, "Loading and Storing Data" (S3(run=self)): a step stores a model under the run with
`put`, a later step reads it back with `get(...).blob`; objects are pickled by the flow itself."""

import pickle

from metaflow import S3, FlowSpec, step


class S3CheckpointFlow(FlowSpec):
    @step
    def start(self):
        model = {"weights": [0.5, 0.25], "bias": 1.0}
        with S3(run=self) as s3:
            self.model_url = s3.put("checkpoints/model.pkl", pickle.dumps(model))
        self.next(self.end)

    @step
    def end(self):
        with S3(run=self) as s3:
            model = pickle.loads(s3.get("checkpoints/model.pkl").blob)
            absent = s3.get("checkpoints/other.pkl", return_missing=True)
        print("weights", model["weights"], "bias", model["bias"], "other exists", absent.exists)


if __name__ == "__main__":
    S3CheckpointFlow()
