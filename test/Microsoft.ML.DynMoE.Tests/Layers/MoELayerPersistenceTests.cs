using System.IO;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using static Microsoft.ML.DynMoE.Tests.Layers.LayerTestHelpers;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Layers;

/// <summary>Issue 3, semantics 8: mask and all slots survive Module.save/load.</summary>
[TestClass]
public sealed class MoELayerPersistenceTests
{
    [TestMethod]
    public void SavedLayerReloadsWithTheSameActiveExpertsAndIdenticalOutputs()
    {
        using var original = TopAny(d: 6, slots: 8, initial: 3, hidden: 10, seed: 21);
        Set(original.ExpertMask, torch.tensor(new float[] { 1, 0, 1, 1, 0, 0, 1, 0 }));
        Set(original.Thresholds!, torch.randn(8).mul(0.1));
        var x = torch.randn(32, 6);
        original.eval();
        var expected = original.forward(x);

        byte[] saved;
        using (var buffer = new MemoryStream())
        {
            original.save(buffer); // save closes the stream; ToArray still works
            saved = buffer.ToArray();
        }

        using var stream = new MemoryStream(saved);

        using var reloaded = TopAny(d: 6, slots: 8, initial: 3, hidden: 10, seed: 99);
        Assert.AreNotEqual(Floats(original.Experts.Weight1)[0], Floats(reloaded.Experts.Weight1)[0], "different init before load");
        reloaded.load(stream);
        reloaded.eval();

        CollectionAssert.AreEqual(Floats(original.ExpertMask), Floats(reloaded.ExpertMask));
        Assert.AreEqual(4, reloaded.ActiveExpertCount);
        CollectionAssert.AreEqual(Floats(original.GateEmbeddings!), Floats(reloaded.GateEmbeddings!));
        CollectionAssert.AreEqual(Floats(original.Thresholds!), Floats(reloaded.Thresholds!));
        CollectionAssert.AreEqual(Floats(expected), Floats(reloaded.forward(x)));
        CollectionAssert.Contains(reloaded.state_dict().Keys, "expert_mask");
    }
}
