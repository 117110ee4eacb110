using System;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Tests.Onnx;

/// <summary>
/// The activations and slot layouts the trainers do not reach by default: ReLU, SiLU and GELU experts, with four of
/// eight slots inactive, through ML.NET's converter, against the managed scorer.
/// </summary>
[TestClass]
public sealed class OnnxActivationAndSlotTests
{
    [TestMethod]
    [DataRow((int)ExpertActivation.Relu, GatingKind.TopAny)]
    [DataRow((int)ExpertActivation.Silu, GatingKind.TopAny)]
    [DataRow((int)ExpertActivation.Gelu, GatingKind.TopK)]
    public void ActivationExportsWithInactiveSlotsLeftOut(int activationValue, GatingKind gating)
    {
        var activation = (ExpertActivation)activationValue;
        const int features = 6;
        var generator = new TorchSharp.torch.Generator(17);
        using var network = new MoEMlpNetwork(new MoEMlpNetworkOptions
        {
            InputDimension = features,
            OutputDimension = 1,
            NumberOfLayers = 2,
            Layer = new MoELayerOptions
            {
                ModelDimension = 12, ExpertHiddenDimension = 10, Gating = gating, TopK = 3, InitialExperts = 4, MaximumExperts = 8, Activation = activation,
            },
        }, generator);
        network.eval();
        var compiled = CompiledMoEMlp.FromNetwork(network);
        Assert.AreEqual(4, compiled.GetBlock(0).Mask.ToArray().Count(m => m > 0f), "four of eight slots are active");

        var ml = new MLContext(seed: 1);
        var standardizer = new FeatureStandardizer(new float[] { 1, -2, 0, 3, 0.5f, 0 }, new float[] { 0.5f, 2, 1, 0.25f, 1, 4 });
        var parameters = new DynMoERegressionModelParameters(ml, standardizer, compiled, new DynMoERoutingSummary(Array.Empty<DynMoELayerRouting>(), 0), labelMean: 10f, labelScale: 3f);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, features).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray()).ToArray();
        var view = OnnxExportTests.ToDataView(ml, rows);
        var model = new RegressionPredictionTransformer<DynMoERegressionModelParameters>(ml, parameters, view.Schema, "Features");

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, view, stream);
        using var session = new InferenceSession(stream.ToArray(), new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        OnnxExportTests.Outputs.AssertEqual(OnnxExportTests.Outputs.Read(model.Transform(view), "regression"),
            OnnxExportTests.Outputs.Run(session, rows, "regression"), $"{activation} {gating}");
    }
}
