using ModelOps.Engine.Models;
using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

/// <summary>Runs a model over a split in evaluation mode and scores it.</summary>
internal static class Evaluation
{
    private const int BatchSize = 512;

    /// <summary>
    /// One pass in evaluation mode. Classification: mean cross entropy, the predicted class and the
    /// probability of class 1 (for ROC AUC). Regression: mean squared error on the standardized label and
    /// the prediction on the label's own scale.
    /// </summary>
    public sealed record Output(double Loss, long[] Predicted, float[] PositiveScore, double[] Values);

    public static Output Run(nn.Module<Tensor, Tensor> model, SplitTensors split, ModelSchema schema)
    {
        bool regression = schema.IsRegression;
        var predicted = new long[regression ? 0 : split.Count];
        var positive = new float[regression || schema.OutputCount != 2 ? 0 : split.Count];
        var values = new double[regression ? split.Count : 0];
        double lossSum = 0;
        model.eval();
        using var noGrad = no_grad();
        for (int start = 0; start < split.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, split.Count - start);
            using var scope = NewDisposeScope();
            var output = model.call(split.Features.narrow(0, start, n));
            var target = split.Labels.narrow(0, start, n);
            if (regression)
            {
                var prediction = output.reshape(n);
                lossSum += nn.functional.mse_loss(prediction, target).item<float>() * n;
                var scaled = prediction.cpu().data<float>().ToArray();
                for (int i = 0; i < n; i++) values[start + i] = scaled[i] * schema.LabelStd + schema.LabelMean;
            }
            else
            {
                lossSum += nn.functional.cross_entropy(output, target).item<float>() * n;
                output.argmax(1).cpu().data<long>().ToArray().CopyTo(predicted, start);
                if (positive.Length > 0) output.softmax(1).select(1, 1).cpu().data<float>().ToArray().CopyTo(positive, start);
            }
        }
        return new Output(split.Count == 0 ? double.NaN : lossSum / split.Count, predicted, positive, values);
    }

    /// <summary>The report's figures by the names runs log them under (accuracy, f1_macro, ..., mse, r2).</summary>
    public static IReadOnlyDictionary<string, double> Figures(EvaluationReport r)
    {
        var figures = new Dictionary<string, double>();
        if (r.Task == TrainingTasks.Regression)
        {
            figures["mse"] = r.Mse ?? double.NaN;
            figures["mae"] = r.Mae ?? double.NaN;
            figures["r2"] = r.R2 ?? double.NaN;
            return figures;
        }
        figures["accuracy"] = r.Accuracy;
        figures["precision_macro"] = r.PrecisionMacro;
        figures["recall_macro"] = r.RecallMacro;
        figures["f1_macro"] = r.F1Macro;
        figures["f1_weighted"] = r.F1Weighted;
        if (r.RocAuc is { } auc) figures["roc_auc"] = auc;
        return figures;
    }

    public static double Accuracy(long[] actual, long[] predicted) =>
        actual.Length == 0 ? double.NaN : actual.Zip(predicted).Count(p => p.First == p.Second) / (double)actual.Length;

    /// <summary>
    /// Macro averages run over classes that occur in the labels or the predictions; weighted averages
    /// weight each class by its support. ROC AUC (two classes only) is the probability that a random
    /// positive scores above a random negative, ties counting half (the Mann-Whitney statistic).
    /// </summary>
    public static EvaluationReport Classification(long[] actual, Output output, IReadOnlyList<string> classNames)
    {
        var predicted = output.Predicted;
        int k = classNames.Count;
        var matrix = Enumerable.Range(0, k).Select(_ => new int[k]).ToArray();
        for (int i = 0; i < actual.Length; i++) matrix[actual[i]][predicted[i]]++;
        double precisionSum = 0, recallSum = 0, f1Sum = 0, wPrecision = 0, wRecall = 0, wF1 = 0;
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
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            precisionSum += precision;
            recallSum += recall;
            f1Sum += f1;
            wPrecision += precision * support;
            wRecall += recall * support;
            wF1 += f1 * support;
        }
        double Macro(double sum) => present == 0 ? 0 : sum / present;
        double Weighted(double sum) => actual.Length == 0 ? 0 : sum / actual.Length;
        return new EvaluationReport(
            Accuracy(actual, predicted), Macro(precisionSum), Macro(recallSum), Macro(f1Sum), matrix, classNames.ToArray(), actual.Length)
        {
            Task = TrainingTasks.Classification,
            PrecisionWeighted = Weighted(wPrecision),
            RecallWeighted = Weighted(wRecall),
            F1Weighted = Weighted(wF1),
            RocAuc = k == 2 && output.PositiveScore.Length == actual.Length ? RocAuc(actual, output.PositiveScore) : null,
        };
    }

    public static EvaluationReport Regression(double[] actual, double[] predicted)
    {
        int n = actual.Length;
        double mse = 0, mae = 0, mean = n == 0 ? 0 : actual.Average(), total = 0;
        for (int i = 0; i < n; i++)
        {
            double e = predicted[i] - actual[i];
            mse += e * e;
            mae += Math.Abs(e);
            total += (actual[i] - mean) * (actual[i] - mean);
        }
        double Avg(double v) => n == 0 ? double.NaN : v / n;
        return new EvaluationReport(double.NaN, double.NaN, double.NaN, double.NaN, [], [], n)
        {
            Task = TrainingTasks.Regression,
            PrecisionWeighted = double.NaN, RecallWeighted = double.NaN, F1Weighted = double.NaN,
            Mse = Avg(mse), Mae = Avg(mae), R2 = total == 0 ? double.NaN : 1 - mse / total,
        };
    }

    /// <summary>Area under the ROC curve of scores for class 1; NaN when one class is absent.</summary>
    public static double RocAuc(long[] actual, float[] score)
    {
        var order = Enumerable.Range(0, actual.Length).OrderBy(i => score[i]).ToArray();
        double positives = actual.Count(a => a == 1), negatives = actual.Length - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        // Sum of the positives' mid-ranks (ties share their average rank).
        double rankSum = 0;
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && score[order[j + 1]] == score[order[i]]) j++;
            double midRank = (i + j) / 2.0 + 1;
            for (int m = i; m <= j; m++) if (actual[order[m]] == 1) rankSum += midRank;
            i = j + 1;
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
