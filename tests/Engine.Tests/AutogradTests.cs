namespace ModelOps.Engine.Tests;

public class AutogradTests
{
    [Fact]
    public void Backward_ThroughCompositeExpression_GivesAnalyticGradient()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Tensor(new double[] { 0.5, 1, 2 }, [3], requiresGrad: true);
        // d/dx sum(x^3 / 3 + exp(x)) = x^2 + exp(x)
        (x.Pow(3) / 3 + x.Exp()).Sum().Backward();
        var grad = x.Grad!.ToArray<double>();
        double[] expected = [0.25 + Math.Exp(0.5), 1 + Math.E, 4 + Math.Exp(2)];
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], grad[i], 10);
    }

    [Fact]
    public void Gradients_AccumulateUntilZeroGrad()
    {
        using var scope = Torch.NewDisposeScope();
        var w = Torch.Ones(2);
        w.RequiresGrad = true;
        w.ZeroGrad(); // no gradient yet: a no-op, not an error
        Assert.Null(w.Grad);
        (w * 2).Sum().Backward();
        (w * 2).Sum().Backward();
        Assert.Equal(new float[] { 4, 4 }, w.Grad!.ToArray<float>());
        w.ZeroGrad();
        Assert.Equal(new float[] { 0, 0 }, w.Grad!.ToArray<float>());
        (w * 5).Mean().Backward();
        Assert.Equal(new float[] { 2.5f, 2.5f }, w.Grad!.ToArray<float>());
    }

    [Fact]
    public void NoGrad_StopsRecordingAndRestoresThePreviousMode()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Ones([3]);
        x.RequiresGrad = true;
        Assert.True(Torch.IsGradEnabled);
        Tensor y;
        using (Torch.NoGrad())
        {
            Assert.False(Torch.IsGradEnabled);
            y = x * 2;
            using (Torch.EnableGrad()) Assert.True((x * 2).RequiresGrad);
            Assert.False(Torch.IsGradEnabled);
        }
        Assert.True(Torch.IsGradEnabled);
        Assert.False(y.RequiresGrad);
        Assert.True((x * 2).RequiresGrad);
        Assert.ThrowsAny<EngineException>(() => y.Sum().Backward());
    }

    [Fact]
    public void Backward_ThroughViewsAndReductions()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Arange(0, 6).Reshape(2, 3).Clone();
        x.RequiresGrad = true;
        var (values, _) = x.Max(1);
        (values.Sum() + x.Narrow(1, 0, 1).Sum() + x.Transpose(0, 1)[2].Sum()).Backward();
        // max picks column 2 per row; narrow picks column 0; transposed row 2 is column 2.
        Assert.Equal(new float[] { 1, 0, 2, 1, 0, 2 }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Detach_CutsTheGraph()
    {
        using var scope = Torch.NewDisposeScope();
        var x = Torch.Ones(2);
        x.RequiresGrad = true;
        var d = (x * 3).Detach();
        Assert.False(d.RequiresGrad);
        Assert.Equal(new float[] { 3, 3 }, d.ToArray<float>());
    }
}
