using System.Linq;
using Microsoft.ML.DynMoE.Training;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Training;

[TestClass]
public sealed class MoEAdamWTests
{
    private static float[] Floats(Tensor t) => t.detach().cpu().data<float>().ToArray();

    /// <summary>Same start, same gradients of a fixed quadratic: several steps must match torch.optim.AdamW.</summary>
    [TestMethod]
    public void StepsMatchTorchAdamW()
    {
        using var generator = new Generator(11, torch.CPU);
        var start = torch.randn(new long[] { 3, 4 }, generator: generator);
        var bias = torch.randn(new long[] { 4 }, generator: generator);
        var target = torch.randn(new long[] { 3, 4 }, generator: generator);
        var ours = new Parameter(start.clone(), true);
        var oursBias = new Parameter(bias.clone(), true);
        var theirs = new Parameter(start.clone(), true);
        var theirsBias = new Parameter(bias.clone(), true);
        using var mine = new MoEAdamW(new[] { (new[] { ours, oursBias }.AsEnumerable(), 1.0) }, learningRate: 0.01, weightDecay: 0.05);
        using var reference = torch.optim.AdamW(new[] { theirs, theirsBias }, lr: 0.01, weight_decay: 0.05);
        for (int step = 0; step < 6; step++)
        {
            double lr = 0.01 * (step + 1) / 6;   // the trainer changes the rate every step
            mine.LearningRate = lr;
            foreach (var g in reference.ParamGroups) g.LearningRate = lr;
            mine.ZeroGrad();
            reference.zero_grad();
            ours.add(oursBias).sub(target).square().sum().backward();
            theirs.add(theirsBias).sub(target).square().sum().backward();
            mine.Step();
            reference.step();
            CollectionAssert.AreEqual(Floats(theirs), Floats(ours), new FloatComparer(2e-6f), $"weights after step {step + 1}");
            CollectionAssert.AreEqual(Floats(theirsBias), Floats(oursBias), new FloatComparer(2e-6f), $"bias after step {step + 1}");
        }
        Assert.AreEqual(6, mine.StepCount);
    }

    /// <summary>Registered slots without resets take exactly the unslotted steps; a reset slot then takes a fresh AdamW's first step, lr·g/(|g|+eps).</summary>
    [TestMethod]
    public void AResetSlotStepsLikeAFreshOptimizerAndWarmUpScalesItsUpdates()
    {
        var slotted = new Parameter(torch.ones(3, 2), true);
        var plain = new Parameter(torch.ones(3, 2), true);
        using var a = new MoEAdamW(new[] { (new[] { slotted }.AsEnumerable(), 1.0) }, 0.1, 0);
        using var b = new MoEAdamW(new[] { (new[] { plain }.AsEnumerable(), 1.0) }, 0.1, 0);
        int group = a.RegisterSlots(3, new (Tensor, int)[] { (slotted, 0) });
        var gradient = torch.tensor(new float[] { 1, -2, 3, -4, 0.5f, 6 }).reshape(3, 2);
        void Step(Parameter p, MoEAdamW o, Tensor g)
        {
            o.ZeroGrad();
            p.mul(g).sum().backward();
            o.Step();
        }
        for (int i = 0; i < 3; i++)
        {
            Step(slotted, a, gradient);
            Step(plain, b, gradient);
            gradient = gradient.mul(i + 2).div(i + 1);
        }
        CollectionAssert.AreEqual(Floats(plain), Floats(slotted), new FloatComparer(1e-6f), "registered slots without reset = plain AdamW");

        var before = Floats(slotted);
        a.ResetSlot(group, 1);
        var g2 = torch.tensor(new float[] { 5, 5, 2, -0.5f, 5, 5 }).reshape(3, 2);
        Step(slotted, a, g2);
        var after = Floats(slotted);
        Assert.AreEqual(before[2] - 0.1f, after[2], 1e-6f, "fresh first step of slot 1 is -lr·sign(g)");
        Assert.AreEqual(before[3] + 0.1f, after[3], 1e-6f);

        a.StartWarmup(group, 2, 4);
        before = Floats(slotted);
        a.ResetSlot(group, 2);
        Step(slotted, a, g2);
        after = Floats(slotted);
        Assert.AreEqual(before[4] - 0.1f / 4, after[4], 1e-6f, "first warm-up step is scaled by 1/4");
    }

    [TestMethod]
    public void GroupMultiplierScalesTheLearningRate()
    {
        var gate = new Parameter(torch.zeros(2), true);
        var other = new Parameter(torch.zeros(2), true);
        using var o = new MoEAdamW(new[] { (new[] { other }.AsEnumerable(), 1.0), (new[] { gate }.AsEnumerable(), 0.25) }, 0.2, 0);
        o.ZeroGrad();
        gate.sum().add(other.sum()).backward();
        o.Step();
        CollectionAssert.AreEqual(new[] { -0.2f, -0.2f }, Floats(other), new FloatComparer(1e-6f));
        CollectionAssert.AreEqual(new[] { -0.05f, -0.05f }, Floats(gate), new FloatComparer(1e-6f));
    }

    private sealed class FloatComparer : System.Collections.IComparer
    {
        private readonly float _tolerance;
        public FloatComparer(float tolerance) => _tolerance = tolerance;
        public int Compare(object? x, object? y) => System.Math.Abs((float)x! - (float)y!) <= _tolerance ? 0 : 1;
    }
}
