using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>The network for the trainers: structure, learning, adaptation, and no tensor leaks across steps.</summary>
[TestClass]
public sealed class MoEMlpNetworkTests
{
    public TestContext TestContext { get; set; } = null!;

    private static MoEMlpNetwork Network(int initialExperts, GatingKind gating = GatingKind.TopAny, long seed = 7)
    {
        torch.random.manual_seed(seed);
        return new MoEMlpNetwork(new MoEMlpNetworkOptions
        {
            InputDimension = 2,
            OutputDimension = 8,
            NumberOfLayers = 2,
            Layer = new MoELayerOptions
            {
                ModelDimension = 32, ExpertHiddenDimension = 32, Gating = gating, InitialExperts = initialExperts, MaximumExperts = 6,
            },
        });
    }

    /// <summary>One epoch of Adam steps in the way a trainer runs them; returns the active expert count of every layer after each step.</summary>
    private static void TrainEpoch(MoEMlpNetwork network, optim.Optimizer optimizer, AdaptationSchedule schedule,
        Tensor features, Tensor labels, int batchSize, ref long globalStep, List<int[]>? history = null)
    {
        network.train();
        long count = features.shape[0];
        int steps = (int)((count + batchSize - 1) / batchSize);
        using var permutation = torch.randperm(count);
        for (int step = 0; step < steps; step++, globalStep++)
        {
            using var scope = NewDisposeScope();
            schedule.BeforeStep(network.MoELayers, step, steps, globalStep);
            var index = permutation.narrow(0, step * batchSize, Math.Min(batchSize, count - step * batchSize));
            var logits = network.forward(features.index_select(0, index));
            var loss = nn.functional.cross_entropy(logits, labels.index_select(0, index)).add(network.AuxiliaryLoss!);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            schedule.AfterStep(network.MoELayers, step, steps, globalStep);
            history?.Add(network.MoELayers.Select(l => l.ActiveExpertCount).ToArray());
        }
    }

    private static double Accuracy(MoEMlpNetwork network, Tensor features, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        network.eval();
        return network.forward(features).argmax(1).eq(labels).to(ScalarType.Float32).mean().item<float>();
    }

    [TestMethod]
    public void MovingTheNetworkKeepsEveryGatingUsable()
    {
        // Module.to replaces registered parameters and buffers (the path a CUDA move takes); the layers must follow.
        foreach (var gating in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense })
        {
            torch.random.manual_seed(5);
            using var network = new MoEMlpNetwork(new MoEMlpNetworkOptions
            {
                InputDimension = 6, OutputDimension = 3, NumberOfLayers = 2,
                Layer = new MoELayerOptions { ModelDimension = 8, ExpertHiddenDimension = 8, Gating = gating, InitialExperts = 3, MaximumExperts = 4, TopK = 2 },
            });
            network.eval();
            using var scope = NewDisposeScope();
            var input = torch.randn(16, 6);
            var before = network.forward(input).data<float>().ToArray();

            network.to(ScalarType.Float64);
            var after = network.forward(input.to(ScalarType.Float64)).to(ScalarType.Float32).data<float>().ToArray();
            Assert.AreEqual(ScalarType.Float64, network.MoELayers[0].Experts.Weight1.dtype, gating.ToString());
            for (int i = 0; i < before.Length; i++)
                Assert.AreEqual(before[i], after[i], 1e-4, $"{gating}, output {i}");

            network.train();
            network.forward(input.to(ScalarType.Float64)).sum().backward();
            Assert.IsNotNull(network.MoELayers[0].Experts.Weight1.grad, gating.ToString());
        }
    }

    [TestMethod]
    public void NetworkHasTheDocumentedStructureAndWeightedAuxiliaryLoss()
    {
        using var network = Network(initialExperts: 2);
        Assert.HasCount(2, network.Blocks);
        Assert.AreSame(network.Blocks[1].MoE, network.MoELayers[1]);
        var x = torch.randn(5, 2);
        var logits = network.forward(x);
        CollectionAssert.AreEqual(new long[] { 5, 8 }, logits.shape);

        float layerSum = network.MoELayers.Sum(l => l.AuxiliaryLoss!.item<float>());
        Assert.AreEqual(0.01f * layerSum, network.AuxiliaryLoss!.item<float>(), 1e-6f);

        // h = P(x); h += MoE_i(Norm_i(h)); out = Head(FinalNorm(h)).
        network.eval();
        var h = network.InputProjection.forward(x);
        foreach (var block in network.Blocks) h = h.add(block.MoE.forward(block.Norm.forward(h)));
        var expected = network.Head.forward(network.FinalNorm.forward(h));
        Assert.IsLessThan(1e-6, LayerTestHelpers.RelativeError(network.forward(x), expected));

        using var same = Network(initialExperts: 2);
        CollectionAssert.AreEqual(LayerTestHelpers.Floats(network.Head.weight!), LayerTestHelpers.Floats(same.Head.weight!), "seeded construction is deterministic");
    }

    [TestMethod]
    public void TopAnyNetworkLearnsTheMixtureAndAdaptationChangesTheExpertCount()
    {
        var watch = Stopwatch.StartNew();
        var (trainX, trainY) = SyntheticMixture.Sample(2000, seed: 1);
        var (testX, testY) = SyntheticMixture.Sample(2000, seed: 2);
        using var network = Network(initialExperts: 1);
        var optimizer = optim.Adam(network.parameters(), lr: 0.02);
        var decay = optim.lr_scheduler.ExponentialLR(optimizer, 0.9);
        var history = new List<int[]>();
        long globalStep = 0;
        double accuracy = 0;
        for (int epoch = 0; epoch < 30 && accuracy < 0.975; epoch++)
        {
            TrainEpoch(network, optimizer, AdaptationSchedule.PerEpochWindow(), trainX, trainY, batchSize: 64, ref globalStep, history);
            decay.step();
            if (epoch % 5 == 4) accuracy = Accuracy(network, testX, testY);
        }

        accuracy = Accuracy(network, testX, testY);
        string counts = string.Join(" ", history.Where((_, i) => i % 32 == 31).Select(c => string.Join("/", c)));
        TestContext.WriteLine($"train {Accuracy(network, trainX, trainY):F4} accuracy {accuracy:F4} after {globalStep} steps in {watch.Elapsed.TotalSeconds:F1}s; active experts per epoch: {counts}");
        Assert.IsGreaterThanOrEqualTo(0.95, accuracy, $"held-out accuracy; expert history {counts}");
        Assert.IsGreaterThan(1, history.SelectMany(c => c).Distinct().Count(), "the expert count must change when starting from one expert");
        Assert.IsTrue(history.Any(c => c.Any(n => n > 1)), "adaptation should add experts to a one-expert start");
        Assert.IsTrue(history.All(c => c.All(n => n >= 1 && n <= 6)));
    }

    [TestMethod]
    public void FiftyTrainingStepsLeaveNoLiveTensorsBehind()
    {
        var (x, y) = SyntheticMixture.Sample(512, seed: 3);
        foreach (var gating in new[] { GatingKind.TopAny, GatingKind.TopK, GatingKind.Dense })
        {
            using var network = Network(initialExperts: 3, gating);
            var optimizer = optim.Adam(network.parameters(), lr: 0.01);
            // Every step records and adapts, so the recording buffers are exercised too.
            var schedule = AdaptationSchedule.EveryNSteps(1, 1);
            long step = 0;
            TrainEpoch(network, optimizer, schedule, x, y, batchSize: 64, ref step); // warm-up: Adam state, first kept tensors
            long before = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
            for (int epoch = 0; epoch < 7; epoch++)
            {
                TrainEpoch(network, optimizer, schedule, x, y, batchSize: 64, ref step);
                using var scope = NewDisposeScope();
                network.eval();
                network.forward(x);
            }

            long after = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
            Assert.AreEqual(before, after, $"{gating}: live tensors after {step} steps");
            Assert.IsGreaterThanOrEqualTo(50L, step - 8);
        }
    }
}
