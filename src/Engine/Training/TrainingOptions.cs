using System.Globalization;
using ModelOps.Engine.Models;

namespace ModelOps.Engine.Training;

/// <summary>
/// Everything a run can choose: the template and its shape, the data policies, the optimizer and its
/// schedule. The worker receives it as JSON (camelCase) in the run spec, the New Run form edits it, and
/// <see cref="Validate"/> is the one place that says what is allowed.
/// </summary>
public sealed record TrainingOptions
{
    // ---- model ----------------------------------------------------------------------------------
    /// <summary>One of <see cref="ModelTemplates.Names"/>: mlp (tabular or images), cnn (images), text-lstm, text-cnn, text-transformer (text).</summary>
    public string Template { get; init; } = ModelTemplates.Mlp;
    /// <summary>classification, or regression (mlp on a numeric label only).</summary>
    public string Task { get; init; } = TrainingTasks.Classification;
    /// <summary>mlp: widths of the hidden layers.</summary>
    public int[] HiddenLayers { get; init; } = [128, 64];
    /// <summary>cnn: number of conv blocks (conv, [batch norm], ReLU, conv, [batch norm], ReLU, max-pool).</summary>
    public int ConvBlocks { get; init; } = 2;
    /// <summary>cnn: channels of the first block, doubled by each further block.</summary>
    public int ConvWidth { get; init; } = 32;
    /// <summary>mlp and cnn: batch norm after each hidden layer or conv.</summary>
    public bool BatchNorm { get; init; } = true;
    /// <summary>Dropout before the output layer (and between mlp hidden layers).</summary>
    public double Dropout { get; init; } = 0.1;
    /// <summary>text: embedding width (the model width of text-transformer); tabular: width of a categorical embedding.</summary>
    public int EmbeddingDim { get; init; } = 64;
    /// <summary>text-lstm: hidden units per direction; text-cnn: filters per kernel size; text-transformer: feed-forward width.</summary>
    public int HiddenSize { get; init; } = 64;
    /// <summary>text-transformer: encoder layers (each multi-head self-attention and a feed-forward block).</summary>
    public int TransformerLayers { get; init; } = 2;
    /// <summary>text-transformer: attention heads per layer; EmbeddingDim must be a multiple of it.</summary>
    public int AttentionHeads { get; init; } = 4;
    /// <summary>text: tokens kept per example (longer texts are cut, shorter ones padded).</summary>
    public int MaxTokens { get; init; } = 128;
    /// <summary>text: the most frequent tokens of the training split that get an id; the rest map to &lt;unk&gt;.</summary>
    public int VocabularySize { get; init; } = 20_000;

    // ---- data -----------------------------------------------------------------------------------
    /// <summary>
    /// Missing CSV cells (empty, NA, N/A, NaN, null, ?: <see cref="Data.MissingCells"/>) in feature columns:
    /// mean (a number gets the training split's mean, a category its most frequent category), zero (0, or
    /// no category), drop (the row), error (refuse, naming the row and column). Prediction fills the same way.
    /// </summary>
    public string MissingValues { get; init; } = MissingValuePolicies.Mean;
    /// <summary>Categorical CSV columns: onehot or embedding.</summary>
    public string CategoricalEncoding { get; init; } = CategoricalEncodings.OneHot;
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>Ignored when the dataset has its own test files.</summary>
    public double TestFraction { get; init; } = 0.2;
    /// <summary>Optional cap on training samples, for quick runs and tests.</summary>
    public int? MaxTrainSamples { get; init; }

    // ---- optimization ---------------------------------------------------------------------------
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>sgd, adam or adamw.</summary>
    public string Optimizer { get; init; } = Optimizers.Adam;
    /// <summary>sgd only.</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>sgd only (needs momentum).</summary>
    public bool Nesterov { get; init; }
    /// <summary>L2 penalty for sgd and adam; decoupled decay for adamw (0.01 is a usual adamw value).</summary>
    public double WeightDecay { get; init; }
    /// <summary>none, step, cosine, warmup (linear warm-up then constant), onecycle.</summary>
    public string Schedule { get; init; } = Schedules.None;
    /// <summary>step: epochs between decays.</summary>
    public int StepSize { get; init; } = 10;
    /// <summary>step: factor applied at each decay.</summary>
    public double Gamma { get; init; } = 0.1;
    /// <summary>warmup, cosine and onecycle: epochs of linear warm-up (may be fractional).</summary>
    public double WarmupEpochs { get; init; }
    /// <summary>Cross entropy label smoothing in [0, 1).</summary>
    public double LabelSmoothing { get; init; }
    /// <summary>Weight classes by inverse frequency in the training split.</summary>
    public bool ClassWeights { get; init; }
    /// <summary>Clip the gradients' global L2 norm to this value; 0 turns clipping off.</summary>
    public double GradClipNorm { get; init; }
    /// <summary>Stop after this many epochs without improvement of <see cref="EarlyStoppingMetric"/>; 0 turns it off.</summary>
    public int EarlyStoppingPatience { get; init; }
    /// <summary>val_loss (lower is better) or val_accuracy (higher is better; classification only).</summary>
    public string EarlyStoppingMetric { get; init; } = "val_loss";

    /// <summary>
    /// Fine-tuning only: how many of the network's last layers (leaf modules with weights, in forward
    /// order) train; the ones before them keep the parent's weights frozen. 0 trains every layer.
    /// </summary>
    public int TrainableLayers { get; init; }
    /// <summary>
    /// k-fold cross-validation over the training and validation rows (stratified for classification):
    /// 0 turns it off, 2 to 10 trains k models and reports each metric's mean and deviation, then refits
    /// one model on all of those rows. The test split stays held out.
    /// </summary>
    public int CrossValidationFolds { get; init; }

    // ---- run --------------------------------------------------------------------------------------
    public long Seed { get; init; } = 42;
    /// <summary>auto (CUDA when available), cpu or cuda[:n].</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Every problem with these options, each naming the option; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        void Check(bool ok, string message)
        {
            if (!ok) errors.Add(message);
        }
        static string List(IEnumerable<string> names) => string.Join(", ", names);

        Check(ModelTemplates.Names.Contains(Template), $"Template '{Template}' is unknown (expected one of: {List(ModelTemplates.Names)})");
        Check(TrainingTasks.All.Contains(Task), $"Task '{Task}' is unknown (expected one of: {List(TrainingTasks.All)})");
        Check(Task != TrainingTasks.Regression || Template == ModelTemplates.Mlp, "Task 'regression' needs the mlp template");
        Check(HiddenLayers is { Length: >= 1 and <= 8 } && HiddenLayers.All(w => w is >= 1 and <= 8192), "HiddenLayers needs 1 to 8 widths, each from 1 to 8192");
        Check(ConvBlocks is >= 1 and <= 5, "ConvBlocks must be from 1 to 5");
        Check(ConvWidth is >= 1 and <= 512, "ConvWidth must be from 1 to 512");
        Check(Dropout is >= 0 and < 1, "Dropout must be in [0, 1)");
        Check(EmbeddingDim is >= 1 and <= 1024, "EmbeddingDim must be from 1 to 1024");
        Check(HiddenSize is >= 1 and <= 2048, "HiddenSize must be from 1 to 2048");
        Check(MaxTokens is >= 1 and <= 4096, "MaxTokens must be from 1 to 4096");
        Check(VocabularySize is >= 10 and <= 1_000_000, "VocabularySize must be from 10 to 1,000,000");
        Check(TransformerLayers is >= 1 and <= 12, "TransformerLayers must be from 1 to 12");
        Check(AttentionHeads is >= 1 and <= 16, "AttentionHeads must be from 1 to 16");
        Check(Template != ModelTemplates.TextTransformer || EmbeddingDim % Math.Max(1, AttentionHeads) == 0,
            "EmbeddingDim must be a multiple of AttentionHeads for the text-transformer template");
        Check(TrainableLayers is >= 0 and <= 100, "TrainableLayers must be from 0 (all) to 100");
        Check(CrossValidationFolds is 0 or (>= 2 and <= 10), "CrossValidationFolds must be 0 (off) or from 2 to 10");
        Check(MissingValuePolicies.All.Contains(MissingValues), $"MissingValues '{MissingValues}' is unknown (expected one of: {List(MissingValuePolicies.All)})");
        Check(CategoricalEncodings.All.Contains(CategoricalEncoding), $"CategoricalEncoding '{CategoricalEncoding}' is unknown (expected one of: {List(CategoricalEncodings.All)})");
        Check(ValidationFraction is >= 0 and < 1, "ValidationFraction must be in [0, 1)");
        Check(TestFraction is >= 0 and < 1, "TestFraction must be in [0, 1)");
        Check(ValidationFraction + TestFraction < 1, "ValidationFraction + TestFraction must be below 1");
        Check(MaxTrainSamples is null or >= 1, "MaxTrainSamples must be at least 1 when set");
        Check(Epochs is >= 1 and <= 10_000, "Epochs must be from 1 to 10,000");
        Check(BatchSize is >= 1 and <= 65_536, "BatchSize must be from 1 to 65,536");
        Check(LearningRate is > 0 and <= 10, "LearningRate must be in (0, 10]");
        Check(Optimizers.All.Contains(Optimizer), $"Optimizer '{Optimizer}' is unknown (expected one of: {List(Optimizers.All)})");
        Check(Momentum is >= 0 and < 1, "Momentum must be in [0, 1)");
        Check(!Nesterov || (Optimizer == Optimizers.Sgd && Momentum > 0), "Nesterov needs the sgd optimizer with momentum above 0");
        Check(WeightDecay is >= 0 and <= 1, "WeightDecay must be in [0, 1]");
        Check(Schedules.All.Contains(Schedule), $"Schedule '{Schedule}' is unknown (expected one of: {List(Schedules.All)})");
        Check(StepSize >= 1, "StepSize must be at least 1");
        Check(Gamma is > 0 and <= 1, "Gamma must be in (0, 1]");
        Check(WarmupEpochs >= 0 && WarmupEpochs <= Epochs, "WarmupEpochs must be from 0 to Epochs");
        Check(LabelSmoothing is >= 0 and < 1, "LabelSmoothing must be in [0, 1)");
        Check(GradClipNorm >= 0 && double.IsFinite(GradClipNorm), "GradClipNorm must be 0 (off) or positive");
        Check(EarlyStoppingPatience >= 0, "EarlyStoppingPatience must be 0 (off) or positive");
        Check(EarlyStoppingMetric is "val_loss" or "val_accuracy", "EarlyStoppingMetric must be val_loss or val_accuracy");
        Check(EarlyStoppingMetric != "val_accuracy" || Task == TrainingTasks.Classification, "EarlyStoppingMetric val_accuracy needs a classification task");
        Check(!string.IsNullOrWhiteSpace(Device), "Device must be auto, cpu or cuda[:n]");
        return errors;
    }

    /// <summary>
    /// These options with <paramref name="parent"/>'s network, for fine-tuning: its template, shape and
    /// input encoding replace whatever the run asked for; the training options stay.
    /// </summary>
    public TrainingOptions WithNetworkOf(ModelSchema parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var a = parent.Architecture;
        return this with
        {
            Template = parent.Template,
            HiddenLayers = a.HiddenLayers, ConvBlocks = a.ConvBlocks, ConvWidth = a.ConvWidth, BatchNorm = a.BatchNorm,
            Dropout = a.Dropout, EmbeddingDim = a.EmbeddingDim, HiddenSize = a.HiddenSize,
            TransformerLayers = a.TransformerLayers, AttentionHeads = a.AttentionHeads,
            CategoricalEncoding = parent.CategoricalEncoding,
            MaxTokens = parent.MaxTokens > 0 ? parent.MaxTokens : MaxTokens,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
    }

    /// <summary>
    /// The options as flat key/value text, for run params in tracking: only the options that apply to
    /// this template, optimizer and schedule (an mlp run has no conv_blocks, an adam run no momentum).
    /// </summary>
    public IReadOnlyDictionary<string, string> ToParams()
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        static string B(bool v) => v ? "true" : "false";
        bool text = ModelTemplates.IsText(Template);
        var p = new Dictionary<string, string>
        {
            ["template"] = Template, ["task"] = Task, ["dropout"] = F(Dropout),
            ["epochs"] = I(Epochs), ["batch_size"] = I(BatchSize), ["learning_rate"] = F(LearningRate), ["optimizer"] = Optimizer,
            ["weight_decay"] = F(WeightDecay), ["schedule"] = Schedule,
            ["grad_clip_norm"] = F(GradClipNorm), ["early_stopping_patience"] = I(EarlyStoppingPatience),
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["validation_fraction"] = F(ValidationFraction), ["test_fraction"] = F(TestFraction),
        };
        switch (Template)
        {
            case ModelTemplates.Mlp:
                p["hidden_layers"] = string.Join("-", HiddenLayers);
                p["batch_norm"] = B(BatchNorm);
                p["missing_values"] = MissingValues;
                p["categorical_encoding"] = CategoricalEncoding;
                if (CategoricalEncoding == CategoricalEncodings.Embedding) p["embedding_dim"] = I(EmbeddingDim);
                break;
            case ModelTemplates.Cnn:
                p["conv_blocks"] = I(ConvBlocks);
                p["conv_width"] = I(ConvWidth);
                p["batch_norm"] = B(BatchNorm);
                break;
            case ModelTemplates.TextTransformer:
                p["transformer_layers"] = I(TransformerLayers);
                p["attention_heads"] = I(AttentionHeads);
                break;
        }
        if (text)
        {
            p["embedding_dim"] = I(EmbeddingDim);
            p["hidden_size"] = I(HiddenSize);
            p["max_tokens"] = I(MaxTokens);
            p["vocabulary_size"] = I(VocabularySize);
        }
        if (Task == TrainingTasks.Classification)
        {
            p["label_smoothing"] = F(LabelSmoothing);
            p["class_weights"] = B(ClassWeights);
        }
        if (Optimizer == Optimizers.Sgd)
        {
            p["momentum"] = F(Momentum);
            p["nesterov"] = B(Nesterov);
        }
        if (Schedule == Schedules.Step)
        {
            p["step_size"] = I(StepSize);
            p["gamma"] = F(Gamma);
        }
        if (Schedule is Schedules.Cosine or Schedules.Warmup or Schedules.OneCycle) p["warmup_epochs"] = F(WarmupEpochs);
        if (EarlyStoppingPatience > 0) p["early_stopping_metric"] = EarlyStoppingMetric;
        if (TrainableLayers > 0) p["trainable_layers"] = I(TrainableLayers);
        if (CrossValidationFolds > 0) p["cross_validation_folds"] = I(CrossValidationFolds);
        return p;
    }
}

public static class TrainingTasks
{
    public const string Classification = "classification";
    public const string Regression = "regression";
    public static IReadOnlyList<string> All { get; } = [Classification, Regression];
}

public static class Optimizers
{
    public const string Sgd = "sgd";
    public const string Adam = "adam";
    public const string AdamW = "adamw";
    public static IReadOnlyList<string> All { get; } = [Sgd, Adam, AdamW];
}

public static class Schedules
{
    public const string None = "none";
    public const string Step = "step";
    public const string Cosine = "cosine";
    public const string Warmup = "warmup";
    public const string OneCycle = "onecycle";
    public static IReadOnlyList<string> All { get; } = [None, Step, Cosine, Warmup, OneCycle];
}

public static class MissingValuePolicies
{
    public const string Mean = "mean";
    public const string Zero = "zero";
    public const string Drop = "drop";
    public const string Error = "error";
    public static IReadOnlyList<string> All { get; } = [Mean, Zero, Drop, Error];
}

public static class CategoricalEncodings
{
    public const string OneHot = "onehot";
    public const string Embedding = "embedding";
    public static IReadOnlyList<string> All { get; } = [OneHot, Embedding];
}
