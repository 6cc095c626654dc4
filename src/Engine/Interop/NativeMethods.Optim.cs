using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

internal static partial class NativeMethods
{
    // losses
    [LibraryImport(Library)] internal static partial int mo_cross_entropy(TensorHandle logits, TensorHandle target, out TensorHandle result);

    // optimizers
    [LibraryImport(Library)] internal static partial void mo_optimizer_free(IntPtr o);
    [LibraryImport(Library)] internal static unsafe partial int mo_adam_new(IntPtr* parameters, long count, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_sgd_new(IntPtr* parameters, long count, double lr, double momentum, double weightDecay, int nesterov, out OptimizerHandle result);
    [LibraryImport(Library)] internal static partial int mo_optimizer_step(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_zero_grad(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_set_lr(OptimizerHandle o, double lr);
    [LibraryImport(Library)] internal static partial int mo_optimizer_save(OptimizerHandle o, out IntPtr buffer, out long length);
    [LibraryImport(Library)] internal static unsafe partial int mo_optimizer_load(OptimizerHandle o, byte* buffer, long length);
}
