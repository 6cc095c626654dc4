using ModelOps.Engine.NN;

namespace ModelOps.Engine.Models;

/// <summary>The network architectures a run can choose by name; a package records only the name and the schema.</summary>
public static class ModelTemplates
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string TextLstm = "text-lstm";
    public const string TextCnn = "text-cnn";

    public static IReadOnlyList<string> Names { get; } = [Mlp, Cnn, TextLstm, TextCnn];

    public static Sequential Build(ModelSchema schema)
    {
        int classes = schema.ClassNames.Count;
        return schema.Template switch
        {
            Mlp when schema.InputKind == ModelSchema.Image => BuildMlp(schema.PixelCount, classes, flatten: true),
            Mlp => BuildMlp(schema.EncodedWidth, classes, flatten: false),
            Cnn when schema.InputKind == ModelSchema.Image && schema.ImageShape is { Length: 3 } shape => BuildCnn(shape, classes),
            Cnn => throw new ArgumentException("the 'cnn' template needs image input (channels x height x width)"),
            _ => throw new ArgumentException($"unknown template '{schema.Template}' (expected one of: {string.Join(", ", Names)})"),
        };
    }

    // Two hidden layers with a little dropout: enough for tabular problems of modest size.
    private static Sequential BuildMlp(int inputs, int classes, bool flatten)
    {
        var net = new Sequential();
        if (flatten) net.Add(new Flatten());
        return net
            .Add(new Linear(inputs, 128)).Add(new ReLU()).Add(new Dropout(0.1))
            .Add(new Linear(128, 64)).Add(new ReLU())
            .Add(new Linear(64, classes));
    }

    // 2 x (conv3x3 -> BN -> ReLU -> maxpool 2) then two linear layers.
    private static Sequential BuildCnn(int[] shape, int classes)
    {
        int channels = shape[0], height = shape[1] / 4, width = shape[2] / 4;
        if (height < 1 || width < 1) throw new ArgumentException("the 'cnn' template needs images of at least 4x4 pixels");
        return new Sequential(
            new Conv2d(channels, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Flatten(),
            new Linear(64L * height * width, 128), new ReLU(), new Dropout(0.25),
            new Linear(128, classes));
    }
}
