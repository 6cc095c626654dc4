using System.Buffers.Binary;
using System.Text;
using ModelOps.Engine.NN;

namespace ModelOps.Engine.Tests;

public class StateDictTests
{
    private static Sequential Small() => new(new Linear(5, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 3));

    // Trained a little so weights and batch-norm statistics are not their initial values.
    private static Sequential Trained(int seed)
    {
        Torch.ManualSeed(seed);
        var model = Small();
        using var scope = Torch.NewDisposeScope();
        model.Forward(Torch.Randn(16, 5));
        model.Forward(Torch.Randn(16, 5));
        return model;
    }

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [Fact]
    public void SaveState_Layout_FollowsTheDocumentedFormat()
    {
        using var layer = new Linear(2, 1);
        var bytes = layer.SaveState();
        Assert.Equal("MOSD", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(6u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal("weight", Encoding.UTF8.GetString(bytes, 16, 6));
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(22))); // float32
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(26)));
        Assert.Equal(1L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(30)));
        Assert.Equal(2L, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(38)));
        Assert.Equal(8UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(46)));
        var weight = layer.StateDict()["weight"].ToArray<float>();
        Assert.Equal(weight[0], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(54)));
        // header, weight entry (4 + 6 + 4 + 4 + 16 + 8 + 8), bias entry (4 + 4 + 4 + 4 + 8 + 8 + 4), crc
        Assert.Equal(12 + 50 + 36 + 4, bytes.Length);
        Assert.Equal(Crc32.Compute(bytes.AsSpan(0, bytes.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)));
    }

    [Fact]
    public void RoundTrip_IsBitwiseEqual_AndGivesIdenticalPredictions()
    {
        using var original = Trained(4);
        using var restored = Trained(99);
        var bytes = original.SaveState();
        Assert.NotEqual(bytes, restored.SaveState());
        restored.LoadState(bytes);
        Assert.Equal(bytes, restored.SaveState());
        Assert.Equal(2L, restored.StateDict()["1.num_batches_tracked"].Item<long>());

        original.Eval();
        restored.Eval();
        using var scope = Torch.NewDisposeScope();
        var input = Torch.Randn(6, 5);
        Assert.Equal(original.Forward(input).ToArray<float>(), restored.Forward(input).ToArray<float>());
    }

    [Fact]
    public void SaveAndLoad_ThroughAFile_RoundTrips()
    {
        using var original = Trained(5);
        using var restored = Trained(6);
        string path = Path.Combine(Path.GetTempPath(), $"modelops-state-{Guid.NewGuid():N}.mosd");
        try
        {
            original.Save(path);
            restored.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Equal(original.SaveState(), restored.SaveState());
    }

    [Fact]
    public void LoadState_TruncatedAtEveryLength_ThrowsInvalidDataAndLeavesModuleUnchanged()
    {
        using var source = Trained(7);
        using var target = Trained(8);
        var bytes = source.SaveState();
        var before = target.SaveState();
        for (int length = 0; length < bytes.Length; length++)
        {
            var ex = Assert.Throws<InvalidDataException>(() => target.LoadState(bytes[..length]));
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
        var truncated = Assert.Throws<InvalidDataException>(() => target.LoadState(bytes[..100]));
        Assert.Contains("truncated at byte 100", truncated.Message);
        Assert.Equal(before, target.SaveState());
    }

    [Fact]
    public void LoadState_WithAnyByteFlipped_ThrowsInvalidDataAndLeavesModuleUnchanged()
    {
        using var source = Trained(9);
        using var target = Trained(10);
        var bytes = source.SaveState();
        var before = target.SaveState();
        for (int i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => target.LoadState(damaged));
        }
        var dataFlip = (byte[])bytes.Clone();
        dataFlip[bytes.Length - 10] ^= 1;
        Assert.Contains("checksum mismatch", Assert.Throws<InvalidDataException>(() => target.LoadState(dataFlip)).Message);
        Assert.Equal(before, target.SaveState());
    }

    [Fact]
    public void LoadState_ExtraTrailingBytes_Throws()
    {
        using var model = Small();
        var bytes = model.SaveState();
        Assert.Throws<InvalidDataException>(() => model.LoadState([.. bytes, 0]));
        Assert.Throws<InvalidDataException>(() => model.LoadState([1, 2, 3, 4, 5]));
    }

    [Fact]
    public void LoadState_WrongArchitecture_NamesTheEntryAndShapes()
    {
        using var wide = new Sequential(new Linear(4, 10), new ReLU(), new Linear(10, 2));
        using var narrow = new Sequential(new Linear(5, 10), new ReLU(), new Linear(10, 2));
        var before = narrow.SaveState();
        var ex = Assert.Throws<InvalidDataException>(() => narrow.LoadState(wide.SaveState()));
        Assert.Equal("entry '0.weight' has shape [10, 4] but the module expects [10, 5]", ex.Message);
        Assert.Equal(before, narrow.SaveState());

        using var deeper = new Sequential(new Linear(5, 10), new ReLU(), new Linear(10, 2), new ReLU(), new Linear(2, 2));
        Assert.Contains("'4.weight' that the module does not have", Assert.Throws<InvalidDataException>(() => narrow.LoadState(deeper.SaveState())).Message);
        Assert.Contains("no entry '4.weight'", Assert.Throws<InvalidDataException>(() => deeper.LoadState(narrow.SaveState())).Message);
        using var withNorm = new Sequential(new Linear(5, 10), new BatchNorm1d(10), new Linear(10, 2));
        Assert.Throws<InvalidDataException>(() => narrow.LoadState(withNorm.SaveState()));
    }

    [Fact]
    public void LoadStateDict_CopiesValuesInPlace_AndRejectsMismatchesBeforeCopying()
    {
        using var source = Trained(11);
        using var target = Trained(12);
        var parameters = target.Parameters();
        target.LoadStateDict(source.StateDict());
        Assert.Equal(source.SaveState(), target.SaveState());
        for (int i = 0; i < parameters.Count; i++) Assert.Same(parameters[i], target.Parameters()[i]);

        using var other = Trained(13);
        var before = target.SaveState();
        var partial = new Dictionary<string, Tensor>(other.StateDict());
        using var wrong = Torch.Zeros([3, 3]);
        partial["3.weight"] = wrong;
        Assert.Throws<ArgumentException>(() => target.LoadStateDict(partial));
        Assert.Equal(before, target.SaveState());

        partial.Remove("3.weight");
        Assert.Throws<ArgumentException>(() => target.LoadStateDict(partial));
        target.LoadStateDict(partial, strict: false);
        Assert.Equal(other.StateDict()["0.weight"].ToArray<float>(), target.StateDict()["0.weight"].ToArray<float>());
        Assert.NotEqual(other.StateDict()["3.weight"].ToArray<float>(), target.StateDict()["3.weight"].ToArray<float>());
    }

    [Fact]
    public void CustomModuleWithNestedResidual_RoundTrips()
    {
        static Module Build() => new Sequential(new Conv2d(1, 2, 3, padding: 1),
            new Residual(new Sequential(new BatchNorm2d(2), new ReLU(), new Conv2d(2, 2, 3, padding: 1))),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(2, 2));
        Torch.ManualSeed(14);
        using var a = Build();
        Torch.ManualSeed(15);
        using var b = Build();
        b.LoadState(a.SaveState());
        Assert.Equal(a.SaveState(), b.SaveState());
        Assert.Contains("1.inner.0.running_var", a.StateDict().Keys);
    }
}
