using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

/// <summary>
/// Gathers shuffled mini-batches from a split that is already encoded on the device, preparing batch
/// b + 1 on a pool thread while batch b trains. The tensors it hands out belong to no dispose scope:
/// the caller disposes them.
/// </summary>
internal sealed class BatchPrefetcher(SplitTensors split, int[] order, int batchSize, int batches) : IDisposable
{
    private Task<(Tensor X, Tensor Y)>? next;

    public (Tensor X, Tensor Y) Take(int batch)
    {
        var current = next is not null ? next.GetAwaiter().GetResult() : Gather(batch);
        next = batch + 1 < batches ? Task.Run(() => Gather(batch + 1)) : null;
        return current;
    }

    private (Tensor X, Tensor Y) Gather(int batch)
    {
        int start = batch * batchSize, n = Math.Min(batchSize, order.Length - start);
        var indices = new long[n];
        for (int i = 0; i < n; i++) indices[i] = order[start + i];
        using var index = tensor(indices, device: split.Features.device);
        return (split.Features.index_select(0, index), split.Labels.index_select(0, index));
    }

    public void Dispose()
    {
        if (next is null) return;
        try
        {
            var (x, y) = next.GetAwaiter().GetResult();
            x.Dispose();
            y.Dispose();
        }
        catch (Exception)
        {
            // The batch that was being prepared failed; the training loop has already stopped.
        }
        next = null;
    }
}
