using System;
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
    private static DynMoEMulticlassTextClassificationTrainer.Options TextOptions(Action<DynMoETrainerOptionsBase> configure)
    {
        var ctx = new CandidateBuildContext(new MLContext(seed: 1), ExperimentTask.MulticlassClassification,
            new DynMoEExperimentSettings { TextColumnName = "Text", ExpertHiddenDimension = 96 }, seed: 1, default);
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

        // A variant that asks for the tabular defaults' values gets them, even where they equal the tabular default.
        var changed = TextOptions(o =>
        {
            foreach (var variant in DynMoEVariantCatalog.Parse("dropout-0.1+validation-es+theta-0.25"))
                variant.Configure(o);
        });
        Assert.AreEqual(0.1f, changed.Dropout);
        Assert.AreEqual(0.1f, changed.ValidationFraction);
        Assert.AreEqual(5, changed.EarlyStoppingPatience);
        Assert.AreEqual(0.25f, changed.ThresholdInitialization);

        // A text-only variant reaches the text trainer's options.
        var frozen = TextOptions(o => DynMoEVariantCatalog.Parse("frozen-encoder")[0].Configure(o));
        Assert.AreEqual(DynMoEFineTuning.FrozenEncoder, frozen.FineTuning);
    }
}
