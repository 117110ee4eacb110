using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Experiments;
using Microsoft.ML.DynMoE.Experiments.Benchmark;
using Microsoft.ML.DynMoE.Experiments.Internal;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Experiments;

[TestClass]
public sealed class NeuralTrainerFactoryTests
{
    private static DynMoEMulticlassTextClassificationTrainer.Options TextOptions(Action<DynMoETrainerOptionsBase> configure,
        DynMoETextEncoder encoder = DynMoETextEncoder.Scratch)
    {
        var ctx = new CandidateBuildContext(new MLContext(seed: 1), ExperimentTask.MulticlassClassification,
            new DynMoEExperimentSettings { TextColumnName = "Text", ExpertHiddenDimension = 96, TextEncoder = encoder, MaximumSequenceLength = 48 }, seed: 1, default);
        return ((DynMoEMulticlassTextClassificationTrainer)NeuralTrainerFactory.Create(ctx, configure)).Settings;
    }

    [TestMethod]
    public void TextCandidatesKeepTheEncoderDefaultsUnlessTheCandidateChangesThem()
    {
        var defaults = new DynMoEMulticlassTextClassificationTrainer.Options();
        var plain = TextOptions(_ => { });
        Assert.AreEqual(defaults.Dropout, plain.Dropout);
        Assert.AreEqual(defaults.ValidationFraction, plain.ValidationFraction);
        Assert.AreEqual(defaults.EarlyStoppingPatience, plain.EarlyStoppingPatience);
        Assert.AreEqual(defaults.ThresholdInitialization, plain.ThresholdInitialization);
        Assert.AreEqual(8, plain.MaximumExperts, "the encoders' cap, not the tabular 16");
        Assert.AreEqual(defaults.MaximumExperts, plain.MaximumExperts);
        Assert.AreEqual(96, plain.ExpertHiddenDimension, "the experiment's expert width");
        Assert.AreEqual(DynMoEFineTuning.Full, plain.FineTuning);
        Assert.AreEqual(48, plain.MaximumSequenceLength, "the experiment's sequence length");
        Assert.AreEqual(DynMoETextEncoder.Scratch, plain.Encoder);
        Assert.AreEqual(defaults.LearningRate, plain.LearningRate, "the encoders' learning rate");

        // A variant that asks for the tabular defaults' values gets them, even where they equal the tabular default.
        var changed = TextOptions(o =>
        {
            foreach (var variant in DynMoEVariantCatalog.Parse("dropout-0.2+validation-es+theta-0.25"))
                variant.Configure(o);
        });
        Assert.AreEqual(0.2f, changed.Dropout);
        Assert.AreEqual(0.1f, changed.ValidationFraction);
        Assert.AreEqual(5, changed.EarlyStoppingPatience);
        Assert.AreEqual(0.25f, changed.ThresholdInitialization);

        // An encoder-only setting a candidate makes reaches the text trainer's options.
        var tuned = TextOptions(o => ((DynMoETextOptionsBase)o).AttentionDropout = 0.2f);
        Assert.AreEqual(0.2f, tuned.AttentionDropout);

        // The frozen-encoder variant reaches a pretrained text candidate, and a Transformer from scratch refuses it.
        var frozen = TextOptions(o => DynMoEVariantCatalog.Parse("frozen-encoder")[0].Configure(o), DynMoETextEncoder.MiniLM);
        Assert.AreEqual(DynMoEFineTuning.FrozenEncoder, frozen.FineTuning);
        Assert.AreEqual(DynMoETextEncoder.MiniLM, frozen.Encoder);
        var scratch = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TextOptions(o => DynMoEVariantCatalog.Parse("frozen-encoder")[0].Configure(o)));
        StringAssert.Contains(scratch.Message, "FineTuning must be Full with a Transformer from scratch (FrozenEncoder freezes a pretrained encoder: set Encoder or PretrainedModelPath)");
        Assert.IsFalse(DynMoEVariantCatalog.Parse("all").Any(v => v.Name == "frozen-encoder"), "'all' runs on any data");
    }
}
