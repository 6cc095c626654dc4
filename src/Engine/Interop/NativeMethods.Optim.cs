using System.Runtime.InteropServices;

namespace ModelOps.Engine.Interop;

internal static partial class NativeMethods
{
    // losses; optional tensors travel as raw pointers (IntPtr.Zero for none), kept alive by the caller
    [LibraryImport(Library)] internal static partial int mo_cross_entropy(TensorHandle logits, TensorHandle target, IntPtr weight, double labelSmoothing, int reduction, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_bce_with_logits(TensorHandle logits, TensorHandle target, IntPtr posWeight, int reduction, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_mse_loss(TensorHandle input, TensorHandle target, int reduction, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_l1_loss(TensorHandle input, TensorHandle target, int reduction, out TensorHandle result);
    [LibraryImport(Library)] internal static partial int mo_kl_div(TensorHandle input, TensorHandle target, int logTarget, int reduction, out TensorHandle result);

    // optimizers
    [LibraryImport(Library)] internal static partial void mo_optimizer_free(IntPtr o);
    [LibraryImport(Library)] internal static unsafe partial int mo_adam_new(IntPtr* parameters, long count, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_adamw_new(IntPtr* parameters, long count, double lr, double beta1, double beta2, double eps, double weightDecay, out OptimizerHandle result);
    [LibraryImport(Library)] internal static unsafe partial int mo_sgd_new(IntPtr* parameters, long count, double lr, double momentum, double weightDecay, int nesterov, out OptimizerHandle result);
    [LibraryImport(Library)] internal static partial int mo_optimizer_step(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_zero_grad(OptimizerHandle o);
    [LibraryImport(Library)] internal static partial int mo_optimizer_set_lr(OptimizerHandle o, double lr);
    [LibraryImport(Library)] internal static partial int mo_optimizer_get_lr(OptimizerHandle o, out double lr);
    [LibraryImport(Library)] internal static partial int mo_optimizer_save(OptimizerHandle o, out IntPtr buffer, out long length);
    [LibraryImport(Library)] internal static unsafe partial int mo_optimizer_load(OptimizerHandle o, byte* buffer, long length);

    // gradient utilities
    [LibraryImport(Library)] internal static unsafe partial int mo_clip_grad_norm(IntPtr* parameters, long count, double maxNorm, double normType, out double totalNorm);
}
