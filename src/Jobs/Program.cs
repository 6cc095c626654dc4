using ModelOps.Jobs.Scheduling;
using ModelOps.Jobs.Worker;

// The ModelOps.Jobs executable is the training worker: one process trains one attempt of one run
// and speaks to the portal only through its REST API. See docs/worker-protocol.md.
// With --count-gpus it prints how many CUDA devices its LibTorch sees: the portal asks it at start-up
// (the portal itself stays on the CPU LibTorch) to size the gpu queue.
if (args is [SlotQueues.CountGpusArgument]) return SlotQueues.PrintGpuCount();
return await WorkerProgram.RunAsync(args);

// The worker is not a library: keep the generated entry point internal (.NET 10 makes it public), so
// it does not clash with the portal's Program, which tests reach through WebApplicationFactory.
internal partial class Program;
