using System.Linq;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Networks built from an explicit generator do not depend on the process-wide torch generator.</summary>
[TestClass]
public sealed class GeneratorInitializationTests
{
    [TestMethod]
    public void SameGeneratorSeedGivesIdenticalNetworksWhateverTheGlobalGenerator()
    {
        var options = new MoEMlpNetworkOptions { InputDimension = 4, OutputDimension = 3, Layer = new MoELayerOptions { ModelDimension = 8, ExpertHiddenDimension = 8 } };
        torch.manual_seed(1);
        using var firstGenerator = new Generator(5, torch.CPU);
        using var first = new MoEMlpNetwork(options, firstGenerator);
        torch.manual_seed(2);
        using var secondGenerator = new Generator(5, torch.CPU);
        using var second = new MoEMlpNetwork(options, secondGenerator);
        using var thirdGenerator = new Generator(6, torch.CPU);
        using var third = new MoEMlpNetwork(options, thirdGenerator);

        foreach (var ((name, a), (_, b)) in first.named_parameters().Zip(second.named_parameters()))
            Assert.IsTrue(a.eq(b).all().item<bool>(), $"parameter {name} differs between two networks of the same generator seed");
        Assert.IsFalse(first.InputProjection.weight!.eq(third.InputProjection.weight!).all().item<bool>(), "another seed must give other weights");
        Assert.IsFalse(first.Blocks[0].MoE.Experts.Weight1.eq(third.Blocks[0].MoE.Experts.Weight1).all().item<bool>(), "another seed must give other experts");
    }

    [TestMethod]
    public void GeneratorOrthogonalGateHasOrthonormalColumns()
    {
        using var generator = new Generator(3, torch.CPU);
        using var gate = new TopAnyGate("gate", modelDimension: 16, slotCount: 6, AuxiliaryLossKind.None, generator);
        var gram = gate.GateEmbeddings.t().matmul(gate.GateEmbeddings);
        Assert.IsTrue(gram.allclose(torch.eye(6), rtol: 0, atol: 1e-5), "W^T W must be the identity when E <= d");
    }
}
