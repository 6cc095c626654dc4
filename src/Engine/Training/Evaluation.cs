using ModelOps.Engine.NN;

namespace ModelOps.Engine.Training;

/// <summary>Runs a model over a split in evaluation mode and scores it.</summary>
internal static class Evaluation
{
    private const int BatchSize = 512;

    /// <summary>Mean cross-entropy, predicted class per sample, in split order.</summary>
    public static (double Loss, long[] Predicted) Run(Module model, SplitTensors split)
    {
        var predicted = new long[split.Count];
        double lossSum = 0;
        model.Eval();
        using var noGrad = Torch.NoGrad();
        var device = split.Features.Device;
        for (int start = 0; start < split.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, split.Count - start);
            using var scope = Torch.NewDisposeScope();
            var index = Torch.Tensor(Enumerable.Range(start, n).Select(i => (long)i).ToArray(), n).To(device);
            var logits = model.Forward(split.Features.IndexSelect(0, index));
            lossSum += Functional.CrossEntropy(logits, split.Labels.IndexSelect(0, index)).Item<float>() * n;
            logits.ArgMax(1).ToArray<long>().CopyTo(predicted, start);
        }
        return (split.Count == 0 ? double.NaN : lossSum / split.Count, predicted);
    }

    public static double Accuracy(long[] actual, long[] predicted) =>
        actual.Length == 0 ? double.NaN : actual.Zip(predicted).Count(p => p.First == p.Second) / (double)actual.Length;

    /// <summary>Macro averages run over classes that occur in the labels or the predictions.</summary>
    public static EvaluationReport Report(long[] actual, long[] predicted, IReadOnlyList<string> classNames)
    {
        int k = classNames.Count;
        var matrix = Enumerable.Range(0, k).Select(_ => new int[k]).ToArray();
        for (int i = 0; i < actual.Length; i++) matrix[actual[i]][predicted[i]]++;
        double precisionSum = 0, recallSum = 0, f1Sum = 0;
        int present = 0;
        for (int c = 0; c < k; c++)
        {
            int tp = matrix[c][c];
            int support = matrix[c].Sum();
            int predictedCount = matrix.Sum(row => row[c]);
            if (support == 0 && predictedCount == 0) continue;
            present++;
            double precision = predictedCount == 0 ? 0 : tp / (double)predictedCount;
            double recall = support == 0 ? 0 : tp / (double)support;
            precisionSum += precision;
            recallSum += recall;
            f1Sum += precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
        double Macro(double sum) => present == 0 ? 0 : sum / present;
        return new EvaluationReport(
            Accuracy(actual, predicted), Macro(precisionSum), Macro(recallSum), Macro(f1Sum), matrix, classNames.ToArray(), actual.Length);
    }
}
