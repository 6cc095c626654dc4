using ModelOps.Jobs.Worker;

// The ModelOps.Jobs executable is the training worker: one process trains one attempt of one run
// and speaks to the portal only through its REST API. See docs/worker-protocol.md.
return await WorkerProgram.RunAsync(args);
