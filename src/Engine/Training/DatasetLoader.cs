using System.Globalization;
using ModelOps.Engine.Data;
using ModelOps.Engine.Models;
using static TorchSharp.torch;

namespace ModelOps.Engine.Training;

/// <summary>
/// Reads a dataset version, splits it by seed and encodes it with statistics learned from the training
/// split only (means, deviations, categories, vocabulary, pixel statistics): nothing of the validation
/// or test rows leaks into the encoding. When fine-tuning, the parent model's encoding is kept instead
/// (its feature statistics and categories, vocabulary, pixel statistics), so its weights see inputs on
/// the scale they were trained on; only the classes come from the new data.
/// </summary>
internal static class DatasetLoader
{
    public static PreparedDataset Prepare(DatasetFiles files, TrainingOptions options, ModelSchema? parent = null) => files.Kind?.ToLowerInvariant() switch
    {
        DatasetFiles.Csv => PrepareCsv(files, options, parent),
        DatasetFiles.Idx => PrepareIdx(files, options, parent),
        DatasetFiles.Text => PrepareText(files, options, parent),
        _ => throw new DatasetFormatException($"unknown dataset kind '{files.Kind}' (expected csv, idx or text)"),
    };

    // Checked before the template: a fine-tuning run has the parent's template, which the user did not pick.
    private static void EnsureParentFits(ModelSchema? parent, string inputKind)
    {
        if (parent is not null && parent.InputKind != inputKind)
            throw new DatasetFormatException($"the model to fine-tune reads {parent.InputKind} input, but this dataset is {inputKind}");
    }

    private static int[] Cap(int[] train, int? max) => max is int m && m > 0 && m < train.Length ? train[..m] : train;

    private static ModelArchitecture Architecture(TrainingOptions o) => new()
    {
        HiddenLayers = o.HiddenLayers, ConvBlocks = o.ConvBlocks, ConvWidth = o.ConvWidth, BatchNorm = o.BatchNorm,
        Dropout = o.Dropout, EmbeddingDim = o.EmbeddingDim, HiddenSize = o.HiddenSize,
        TransformerLayers = o.TransformerLayers, AttentionHeads = o.AttentionHeads,
    };

    private static void EnsureTemplateFits(TrainingOptions options, string inputKind)
    {
        if (!ModelTemplates.For(inputKind).Contains(options.Template))
            throw new DatasetFormatException(
                $"the '{options.Template}' template cannot train on {inputKind} data; templates for it: {string.Join(", ", ModelTemplates.For(inputKind))}");
    }

    private static int FindColumn(CsvTable table, string name, string role)
    {
        int index = Array.IndexOf(table.Header, name);
        if (index < 0) index = Array.FindIndex(table.Header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
            throw new DatasetFormatException($"{role} column '{name}' not found; columns are: {string.Join(", ", table.Header)}");
        return index;
    }

    // ---- labels -----------------------------------------------------------------------------------

    /// <summary>Class names and ids, or standardized regression targets (statistics from the training rows).</summary>
    private sealed class Labels
    {
        public string[] ClassNames = [];
        public long[]? ClassIds;
        public double[]? Values;
        public double Mean, Std = 1;

        public static Labels Read(IReadOnlyList<string> raw, string column, TrainingOptions options, int[] train, ModelSchema? parent = null)
        {
            for (int r = 0; r < raw.Count; r++)
                if (MissingCells.IsMissing(raw[r])) throw new DatasetFormatException($"data row {r + 1}: the label '{column}' is missing ('{raw[r]}'); every example needs its label");
            if (options.Task == TrainingTasks.Regression)
            {
                var values = new double[raw.Count];
                for (int r = 0; r < raw.Count; r++)
                    values[r] = ParseNumber(raw[r]) ?? throw new DatasetFormatException(
                        $"data row {r + 1}: the label '{column}' is '{raw[r]}', not a number; regression needs a numeric label");
                if (parent is { IsRegression: true }) return new Labels { Values = values, Mean = parent.LabelMean, Std = parent.LabelStd };
                double mean = train.Length == 0 ? 0 : train.Average(i => values[i]);
                double std = train.Length == 0 ? 1 : Math.Sqrt(train.Sum(i => (values[i] - mean) * (values[i] - mean)) / train.Length);
                return new Labels { Values = values, Mean = mean, Std = std < 1e-12 ? 1 : std };
            }
            var names = SortClassNames(raw.Distinct(StringComparer.Ordinal));
            if (names.Length < 2) throw new DatasetFormatException($"the label column '{column}' has a single class; classification needs two or more");
            var index = names.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
            return new Labels { ClassNames = names, ClassIds = raw.Select(l => index[l]).ToArray() };
        }

        public Tensor Tensor(int[] rows)
        {
            if (ClassIds is not null) return tensor(rows.Select(i => ClassIds[i]).ToArray());
            return tensor(rows.Select(i => (float)((Values![i] - Mean) / Std)).ToArray());
        }
    }

    private static ModelSchema WithLabels(ModelSchema schema, Labels labels, string labelName) => labels.Values is null ? schema
        : schema with { LabelMean = labels.Mean, LabelStd = labels.Std, LabelName = labelName };

    // ---- tabular ------------------------------------------------------------------------------

    private static PreparedDataset PrepareCsv(DatasetFiles files, TrainingOptions options, ModelSchema? parent)
    {
        EnsureParentFits(parent, ModelSchema.Tabular);
        EnsureTemplateFits(options, ModelSchema.Tabular);
        if (string.IsNullOrWhiteSpace(files.CsvPath)) throw new DatasetFormatException("a csv dataset needs CsvPath");
        if (string.IsNullOrWhiteSpace(files.LabelColumn)) throw new DatasetFormatException("a csv dataset needs LabelColumn");
        var table = CsvTable.Read(files.CsvPath);
        int labelIndex = FindColumn(table, files.LabelColumn, "label");
        if (table.Header.Length < 2) throw new DatasetFormatException("the CSV needs at least one feature column besides the label");
        var columns = parent is null
            ? Enumerable.Range(0, table.Header.Length).Where(c => c != labelIndex).ToArray()
            : parent.Features.Select(f => FindColumn(table, f.Name, "the fine-tuned model's feature")).ToArray();
        var rows = table.Rows;
        bool Missing(int r, int c) => MissingCells.IsMissing(rows[r][c]);

        // A column with no value at all has nothing to learn from and nothing to fill with.
        foreach (int c in columns)
            if (rows.Count > 0 && Enumerable.Range(0, rows.Count).All(r => Missing(r, c)))
                throw new DatasetFormatException(
                    $"column '{table.Header[c]}' has no values: all {rows.Count} cells are missing ({MissingCells.Describe()}); remove the column or fill it");

        // Which columns are numeric is decided on the whole file, ignoring missing cells (a type is a
        // property of the column); the statistics below come from the training rows only.
        bool[] numeric = columns.Select(c => Enumerable.Range(0, rows.Count).All(r => Missing(r, c) || ParseNumber(rows[r][c].Trim()) is not null)).ToArray();
        if (parent is not null)
        {
            for (int f = 0; f < columns.Length; f++)
                if (parent.Features[f].Kind == FeatureKind.Numeric && !numeric[f])
                    throw new DatasetFormatException($"column '{table.Header[columns[f]]}' is numeric in the model to fine-tune but holds text here");
            numeric = parent.Features.Select(f => f.Kind == FeatureKind.Numeric).ToArray();
        }
        // The policy decides about rows with a missing feature (numeric or categorical) before the split:
        // drop and error look at one row at a time, so nothing of other rows is used.
        var keep = new List<int>(rows.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            int missing = -1;
            for (int f = 0; f < columns.Length && missing < 0; f++)
                if (Missing(r, columns[f])) missing = f;
            if (missing < 0) { keep.Add(r); continue; }
            if (options.MissingValues == MissingValuePolicies.Error)
                throw new DatasetFormatException(
                    $"data row {r + 1}: '{table.Header[columns[missing]]}' is missing (line {table.RowLines[r]} of the file); the missing-value policy 'error' refuses incomplete rows: fill the cell, or choose the policy mean, zero or drop");
            if (options.MissingValues != MissingValuePolicies.Drop) keep.Add(r);
        }
        if (keep.Count < 3 && options.MissingValues == MissingValuePolicies.Drop && rows.Count >= 3)
            throw new DatasetFormatException($"the missing-value policy 'drop' leaves {keep.Count} of {rows.Count} data rows: too few to train on; choose mean or zero");
        if (keep.Count < 3) throw new DatasetFormatException($"the CSV has {keep.Count} usable data rows: too few to train on");

        var rawLabels = keep.Select(r => rows[r][labelIndex].Trim()).ToArray();
        var (train, validation, test) = DataSplit.Split(keep.Count, options.ValidationFraction, options.TestFraction, options.Seed);
        train = Cap(train, options.MaxTrainSamples);
        var labels = Labels.Read(rawLabels, table.Header[labelIndex], options, train, parent);

        string[] Row(int i) => rows[keep[i]];
        var features = parent?.Features.ToArray()
            ?? columns.Select((c, f) => DescribeColumn(table.Header[c], numeric[f], train.Select(i => Row(i)[c].Trim()))).ToArray();
        var schema = WithLabels(new ModelSchema(options.Template, ModelSchema.Tabular, features, labels.ClassNames, null)
        {
            Task = options.Task, Architecture = Architecture(options),
            CategoricalEncoding = parent?.CategoricalEncoding ?? options.CategoricalEncoding,
            MissingValues = options.MissingValues,
        }, labels, table.Header[labelIndex]);
        var encoder = new FeatureEncoder(schema);

        SplitTensors Encode(int[] indices)
        {
            var x = new float[indices.Length * encoder.Width];
            for (int i = 0; i < indices.Length; i++)
            {
                var row = Row(indices[i]);
                var target = x.AsSpan(i * encoder.Width, encoder.Width);
                for (int f = 0; f < columns.Length; f++)
                {
                    string raw = row[columns[f]].Trim();
                    bool missing = MissingCells.IsMissing(raw);
                    if (features[f].Kind == FeatureKind.Numeric)
                        encoder.WriteNumeric(f, missing ? double.NaN : ParseNumber(raw)!.Value, target);
                    else
                        encoder.WriteCategory(f, missing ? null : raw, target);
                }
            }
            return new SplitTensors(tensor(x, [indices.Length, encoder.Width]), labels.Tensor(indices));
        }

        return new PreparedDataset(schema, Encode(train), Encode(validation), Encode(test));
    }

    private static double? ParseNumber(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;

    private static FeatureSchema DescribeColumn(string name, bool numeric, IEnumerable<string> trainValues)
    {
        var present = trainValues.Where(v => !MissingCells.IsMissing(v)).ToArray();
        if (numeric)
        {
            var values = present.Select(v => ParseNumber(v)!.Value).ToArray();
            double mean = values.Length == 0 ? 0 : values.Average();
            double variance = values.Length == 0 ? 0 : values.Sum(v => (v - mean) * (v - mean)) / values.Length;
            double std = Math.Sqrt(variance);
            return new FeatureSchema(name, FeatureKind.Numeric, null) { Mean = mean, Std = std < 1e-12 ? 1 : std };
        }
        var categories = present.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // The training rows' most frequent category (ties: the first in order) fills a missing one under the mean policy.
        var mode = present.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).FirstOrDefault();
        return new FeatureSchema(name, FeatureKind.Categorical, categories) { Mode = mode };
    }

    // Numeric labels sort by value ("2" before "10"), others ordinally: stable across runs and machines.
    private static string[] SortClassNames(IEnumerable<string> names)
    {
        var list = names.ToArray();
        if (list.All(n => ParseNumber(n) is not null))
            return list.OrderBy(n => ParseNumber(n)!.Value).ThenBy(n => n, StringComparer.Ordinal).ToArray();
        return list.Order(StringComparer.Ordinal).ToArray();
    }

    // ---- text ---------------------------------------------------------------------------------

    private static PreparedDataset PrepareText(DatasetFiles files, TrainingOptions options, ModelSchema? parent)
    {
        EnsureParentFits(parent, ModelSchema.Text);
        EnsureTemplateFits(options, ModelSchema.Text);
        if (options.Task != TrainingTasks.Classification) throw new DatasetFormatException("text datasets support classification only");
        if (string.IsNullOrWhiteSpace(files.CsvPath)) throw new DatasetFormatException("a text dataset needs CsvPath");
        var table = CsvTable.Read(files.CsvPath);
        int labelIndex = FindColumn(table, string.IsNullOrWhiteSpace(files.LabelColumn) ? "label" : files.LabelColumn, "label");
        int textIndex = FindColumn(table, string.IsNullOrWhiteSpace(files.TextColumn) ? "text" : files.TextColumn, "text");
        if (labelIndex == textIndex) throw new DatasetFormatException("the label and text columns must differ");
        var rows = table.Rows;
        if (rows.Count < 3) throw new DatasetFormatException($"the file has {rows.Count} data rows: too few to train on");

        var (train, validation, test) = DataSplit.Split(rows.Count, options.ValidationFraction, options.TestFraction, options.Seed);
        train = Cap(train, options.MaxTrainSamples);
        var labels = Labels.Read(rows.Select(r => r[labelIndex].Trim()).ToArray(), table.Header[labelIndex], options, train);
        var vocabulary = parent?.Vocabulary is { } kept
            ? new TextVocabulary(kept)
            : TextVocabulary.Build(train.Select(i => rows[i][textIndex]), options.VocabularySize);
        // The widest text-cnn kernel needs five positions.
        int length = parent?.MaxTokens ?? Math.Max(options.MaxTokens, TextCnnNet.KernelSizes.Max());
        var schema = new ModelSchema(options.Template, ModelSchema.Text, [], labels.ClassNames, null)
        {
            Task = options.Task, Architecture = Architecture(options), Vocabulary = vocabulary.Tokens, MaxTokens = length,
        };

        SplitTensors Encode(int[] indices)
        {
            var ids = new long[indices.Length * length];
            for (int i = 0; i < indices.Length; i++)
                vocabulary.Encode(rows[indices[i]][textIndex], ids.AsSpan(i * length, length));
            return new SplitTensors(tensor(ids, [indices.Length, length]), labels.Tensor(indices));
        }

        return new PreparedDataset(schema, Encode(train), Encode(validation), Encode(test));
    }

    // ---- images -------------------------------------------------------------------------------

    private static PreparedDataset PrepareIdx(DatasetFiles files, TrainingOptions options, ModelSchema? parent)
    {
        EnsureParentFits(parent, ModelSchema.Image);
        EnsureTemplateFits(options, ModelSchema.Image);
        if (options.Task != TrainingTasks.Classification) throw new DatasetFormatException("image datasets support classification only");
        if (string.IsNullOrWhiteSpace(files.TrainImagesPath) || string.IsNullOrWhiteSpace(files.TrainLabelsPath))
            throw new DatasetFormatException("an idx dataset needs TrainImagesPath and TrainLabelsPath");
        var (images, labels) = ReadPair(files.TrainImagesPath, files.TrainLabelsPath);
        bool hasTest = !string.IsNullOrWhiteSpace(files.TestImagesPath) && !string.IsNullOrWhiteSpace(files.TestLabelsPath);
        (IdxFile.Images Images, byte[] Labels)? testFiles = hasTest ? ReadPair(files.TestImagesPath!, files.TestLabelsPath!) : null;
        if (testFiles is { } t && (t.Images.Rows != images.Rows || t.Images.Columns != images.Columns || t.Images.Channels != images.Channels))
            throw new DatasetFormatException(
                $"test images are {t.Images.Channels}x{t.Images.Rows}x{t.Images.Columns} but training images are {images.Channels}x{images.Rows}x{images.Columns}");

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

        int pixels = images.PixelsPerImage;
        if (parent?.ImageShape is { } parentShape && !parentShape.SequenceEqual(new[] { images.Channels, images.Rows, images.Columns }))
            throw new DatasetFormatException(
                $"the model to fine-tune reads {string.Join("x", parentShape)} images, but these are {images.Channels}x{images.Rows}x{images.Columns}");
        var (mean, std) = parent is null ? PixelStatistics(images.Pixels, pixels, train) : (parent.PixelMean, parent.PixelStd);
        var schema = new ModelSchema(options.Template, ModelSchema.Image, [], classNames, [images.Channels, images.Rows, images.Columns])
        {
            PixelMean = mean,
            PixelStd = std,
            Task = options.Task,
            Architecture = Architecture(options),
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
            // One float copy of the split: normalised in place.
            using var bytes = tensor(raw, [n, images.Channels, images.Rows, images.Columns]);
            var x = bytes.to(ScalarType.Float32);
            x.mul_(1.0 / (255.0 * std)).add_(-mean / std);
            return new SplitTensors(x, tensor(y));
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
