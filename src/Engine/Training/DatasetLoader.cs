using System.Globalization;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>Reads a dataset version, splits it by seed and encodes it with statistics from the training split only.</summary>
internal static class DatasetLoader
{
    public static PreparedDataset Prepare(DatasetFiles files, TrainingOptions options) => files.Kind?.ToLowerInvariant() switch
    {
        DatasetFiles.Csv => PrepareCsv(files, options),
        DatasetFiles.Idx => PrepareIdx(files, options),
        _ => throw new DatasetFormatException($"unknown dataset kind '{files.Kind}' (expected csv or idx)"),
    };

    private static int[] Cap(int[] train, int? max) => max is int m && m > 0 && m < train.Length ? train[..m] : train;

    // ---- tabular ------------------------------------------------------------------------------

    private static PreparedDataset PrepareCsv(DatasetFiles files, TrainingOptions options)
    {
        if (string.IsNullOrWhiteSpace(files.CsvPath)) throw new DatasetFormatException("a csv dataset needs CsvPath");
        if (string.IsNullOrWhiteSpace(files.LabelColumn)) throw new DatasetFormatException("a csv dataset needs LabelColumn");
        var table = CsvTable.Read(files.CsvPath);
        int labelIndex = Array.IndexOf(table.Header, files.LabelColumn);
        if (labelIndex < 0) labelIndex = Array.FindIndex(table.Header, h => string.Equals(h, files.LabelColumn, StringComparison.OrdinalIgnoreCase));
        if (labelIndex < 0)
            throw new DatasetFormatException($"label column '{files.LabelColumn}' not found; columns are: {string.Join(", ", table.Header)}");
        if (table.Header.Length < 2) throw new DatasetFormatException("the CSV needs at least one feature column besides the label");
        if (table.Rows.Count < 3) throw new DatasetFormatException($"the CSV has {table.Rows.Count} data rows: too few to train on");

        var rows = table.Rows;
        var labels = new string[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            labels[r] = rows[r][labelIndex].Trim();
            if (labels[r].Length == 0) throw new DatasetFormatException($"data row {r + 1}: the label '{table.Header[labelIndex]}' is empty");
        }
        var classNames = SortClassNames(labels.Distinct(StringComparer.Ordinal));
        if (classNames.Length < 2) throw new DatasetFormatException($"the label column '{table.Header[labelIndex]}' has a single class; classification needs two or more");
        var classIndex = classNames.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);

        var (train, validation, test) = DataSplit.Split(rows.Count, options.ValidationFraction, options.TestFraction, options.Seed);
        train = Cap(train, options.MaxTrainSamples);

        var columns = Enumerable.Range(0, table.Header.Length).Where(c => c != labelIndex).ToArray();
        var features = columns.Select(c => DescribeColumn(table.Header[c], rows, c, train)).ToArray();
        var schema = new ModelSchema(options.Template, ModelSchema.Tabular, features, classNames, null);
        var encoder = new FeatureEncoder(features);

        SplitTensors Encode(int[] indices)
        {
            var x = new float[indices.Length * encoder.Width];
            var y = new long[indices.Length];
            for (int i = 0; i < indices.Length; i++)
            {
                var row = rows[indices[i]];
                var target = x.AsSpan(i * encoder.Width, encoder.Width);
                for (int f = 0; f < columns.Length; f++)
                {
                    string raw = row[columns[f]].Trim();
                    if (features[f].Kind == FeatureKind.Numeric)
                        encoder.WriteNumeric(f, raw.Length == 0 ? double.NaN : ParseNumber(raw)!.Value, target);
                    else
                        encoder.WriteCategory(f, raw.Length == 0 ? null : raw, target);
                }
                y[i] = classIndex[labels[indices[i]]];
            }
            return new SplitTensors(
                Torch.Tensor(x, indices.Length, encoder.Width).DetachFromDisposeScope(),
                Torch.Tensor(y, indices.Length).DetachFromDisposeScope(),
                indices.Length);
        }

        return new PreparedDataset(schema, Encode(train), Encode(validation), Encode(test));
    }

    private static double? ParseNumber(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;

    // A column is numeric when every non-empty value in the file parses as a number; statistics come from training rows only.
    private static FeatureSchema DescribeColumn(string name, IReadOnlyList<string[]> rows, int column, int[] train)
    {
        bool numeric = rows.Any(r => r[column].Trim().Length > 0)
            && rows.All(r => r[column].Trim() is var v && (v.Length == 0 || ParseNumber(v) is not null));
        if (numeric)
        {
            var values = train.Select(i => rows[i][column].Trim()).Where(v => v.Length > 0).Select(v => ParseNumber(v)!.Value).ToArray();
            double mean = values.Length == 0 ? 0 : values.Average();
            double variance = values.Length == 0 ? 0 : values.Sum(v => (v - mean) * (v - mean)) / values.Length;
            double std = Math.Sqrt(variance);
            return new FeatureSchema(name, FeatureKind.Numeric, null) { Mean = mean, Std = std < 1e-12 ? 1 : std };
        }
        var categories = train.Select(i => rows[i][column].Trim()).Where(v => v.Length > 0)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new FeatureSchema(name, FeatureKind.Categorical, categories);
    }

    // Numeric labels sort by value ("2" before "10"), others ordinally: stable across runs and machines.
    private static string[] SortClassNames(IEnumerable<string> names)
    {
        var list = names.ToArray();
        if (list.All(n => ParseNumber(n) is not null))
            return list.OrderBy(n => ParseNumber(n)!.Value).ThenBy(n => n, StringComparer.Ordinal).ToArray();
        return list.Order(StringComparer.Ordinal).ToArray();
    }

    // ---- images -------------------------------------------------------------------------------

    private static PreparedDataset PrepareIdx(DatasetFiles files, TrainingOptions options)
    {
        if (string.IsNullOrWhiteSpace(files.TrainImagesPath) || string.IsNullOrWhiteSpace(files.TrainLabelsPath))
            throw new DatasetFormatException("an idx dataset needs TrainImagesPath and TrainLabelsPath");
        var (images, labels) = ReadPair(files.TrainImagesPath, files.TrainLabelsPath);
        bool hasTest = !string.IsNullOrWhiteSpace(files.TestImagesPath) && !string.IsNullOrWhiteSpace(files.TestLabelsPath);
        (IdxFile.Images Images, byte[] Labels)? testFiles = hasTest ? ReadPair(files.TestImagesPath!, files.TestLabelsPath!) : null;
        if (testFiles is { } t && (t.Images.Rows != images.Rows || t.Images.Columns != images.Columns))
            throw new DatasetFormatException($"test images are {t.Images.Rows}x{t.Images.Columns} but training images are {images.Rows}x{images.Columns}");

        int maxLabel = Math.Max(labels.Max(), testFiles?.Labels.DefaultIfEmpty().Max() ?? 0);
        string[] classNames = files.ClassNames is { Length: > 0 } names
            ? names
            : Enumerable.Range(0, Math.Max(2, maxLabel + 1)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (maxLabel >= classNames.Length)
            throw new DatasetFormatException($"label {maxLabel} has no class name ({classNames.Length} names were given)");

        int[] train, validation, test;
        if (hasTest)
        {
            (train, validation, _) = DataSplit.Split(images.Count, options.ValidationFraction, 0, options.Seed);
            test = [];
        }
        else
        {
            (train, validation, test) = DataSplit.Split(images.Count, options.ValidationFraction, options.TestFraction, options.Seed);
        }
        train = Cap(train, options.MaxTrainSamples);

        int pixels = images.Rows * images.Columns;
        var (mean, std) = PixelStatistics(images.Pixels, pixels, train);
        var schema = new ModelSchema(options.Template, ModelSchema.Image, [], classNames, [1, images.Rows, images.Columns])
        {
            PixelMean = mean,
            PixelStd = std,
        };

        SplitTensors Encode(IdxFile.Images source, byte[] sourceLabels, int[]? indices)
        {
            int n = indices?.Length ?? source.Count;
            var raw = new byte[n * pixels];
            var y = new long[n];
            for (int i = 0; i < n; i++)
            {
                int k = indices?[i] ?? i;
                source.Pixels.AsSpan(k * pixels, pixels).CopyTo(raw.AsSpan(i * pixels));
                y[i] = sourceLabels[k];
            }
            using var scope = Torch.NewDisposeScope();
            var bytes = Torch.Tensor(raw, n, 1, images.Rows, images.Columns);
            var x = bytes.To(ScalarType.Float32).Mul(1.0 / (255.0 * std)).Add(-mean / std);
            return new SplitTensors(x.DetachFromDisposeScope(), Torch.Tensor(y, n).DetachFromDisposeScope(), n);
        }

        var testSplit = testFiles is { } tf ? Encode(tf.Images, tf.Labels, null) : Encode(images, labels, test);
        return new PreparedDataset(schema, Encode(images, labels, train), Encode(images, labels, validation), testSplit);
    }

    private static (IdxFile.Images Images, byte[] Labels) ReadPair(string imagesPath, string labelsPath)
    {
        var images = IdxFile.ReadImages(imagesPath);
        var labels = IdxFile.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
            throw new DatasetFormatException($"{Path.GetFileName(imagesPath)} holds {images.Count} images but {Path.GetFileName(labelsPath)} holds {labels.Length} labels");
        if (images.Count == 0) throw new DatasetFormatException($"{Path.GetFileName(imagesPath)} holds no images");
        return (images, labels);
    }

    private static (double Mean, double Std) PixelStatistics(byte[] pixels, int perImage, int[] train)
    {
        double sum = 0, sumSquares = 0;
        foreach (int i in train)
        {
            foreach (byte b in pixels.AsSpan(i * perImage, perImage))
            {
                double v = b / 255.0;
                sum += v;
                sumSquares += v * v;
            }
        }
        double n = (double)train.Length * perImage;
        double mean = sum / n;
        double std = Math.Sqrt(Math.Max(0, sumSquares / n - mean * mean));
        return (mean, std < 1e-6 ? 1 : std);
    }
}
