// TEMPORARY: stand-in for the trainer API that lands on main with the "Trainers:" commit.
// Delete this file when merging main. Its shapes follow the agreed contract; Fit always throws.
#pragma warning disable CS1591
using System;
using System.Collections.Generic;
using System.Threading;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE
{
    public enum DynMoEDevice { Auto, Cpu, Cuda }
    public abstract class DynMoETrainerOptionsBase
    {
        public string FeatureColumnName = "Features"; public string LabelColumnName = "Label"; public string? ExampleWeightColumnName;
        public GatingKind Gating = GatingKind.TopAny; public int TopK = 2; public int NumberOfExperts = 4; public int MaximumNumberOfExperts = 16;
        public int NumberOfLayers = 2; public int HiddenSize = 64; public int ExpertHiddenSize = 64; public int NumberOfEpochs = 30;
        public int BatchSize = 64; public float LearningRate = 3e-3f; public float WeightDecay = 1e-4f; public float AuxiliaryLossWeight = 0.01f;
        public AdaptationSchedule Adaptation = AdaptationSchedule.PerEpochWindow(); public DynMoEDevice Device = DynMoEDevice.Auto;
        public int EarlyStoppingPatience; public CancellationToken CancellationToken; public IProgress<DynMoETrainingProgress>? Progress;
        public long MaximumCacheBytes = 1L << 30; public bool SkipRowsWithNonFiniteFeatures; public int? Seed;
    }
    public sealed class DynMoEMulticlassTrainer { public sealed class Options : DynMoETrainerOptionsBase { } }
    public sealed class DynMoEBinaryTrainer { public sealed class Options : DynMoETrainerOptionsBase { } }
    public sealed class DynMoERegressionTrainer { public sealed class Options : DynMoETrainerOptionsBase { } }
    public abstract class DynMoEModelParameters
    {
        public DynMoERoutingSummary Routing => throw new NotSupportedException();
        public DynMoERoutingReport ComputeRouting(IDataView data, string featureColumnName = "Features", string? labelColumnName = null) => throw new NotSupportedException();
    }
    public sealed class DynMoERoutingSummary { public IReadOnlyList<DynMoELayerRouting> Layers = Array.Empty<DynMoELayerRouting>(); public double MeanActivatedExpertsPerToken; }
    public sealed class DynMoELayerRouting
    {
        public int Layer; public GatingKind Gating; public int InitialExperts; public int ActiveExperts; public int MaximumExperts;
        public double MeanActivatedExpertsPerToken; public IReadOnlyList<long> ExpertLoad = Array.Empty<long>(); public IReadOnlyList<int> ExpertCountHistory = Array.Empty<int>();
    }
    public sealed class DynMoERoutingReport { public DynMoERoutingSummary Overall = new(); public IReadOnlyDictionary<string, DynMoERoutingSummary> ByLabel = new Dictionary<string, DynMoERoutingSummary>(); }
    public sealed class DynMoETrainingProgress { public int Epoch; public int NumberOfEpochs; public long Step; public double TrainingLoss; public double? ValidationLoss; public IReadOnlyList<int> ActiveExperts = Array.Empty<int>(); public double ActivatedExpertsPerToken; public TimeSpan Elapsed; }
}

namespace Microsoft.ML
{
    public static class DynMoEStubCatalog
    {
        public static IEstimator<ITransformer> DynMoE(this MulticlassClassificationCatalog.MulticlassClassificationTrainers c, Microsoft.ML.DynMoE.DynMoEMulticlassTrainer.Options o) => throw new NotSupportedException("DynMoE trainers are not merged yet.");
        public static IEstimator<ITransformer> DynMoE(this BinaryClassificationCatalog.BinaryClassificationTrainers c, Microsoft.ML.DynMoE.DynMoEBinaryTrainer.Options o) => throw new NotSupportedException("DynMoE trainers are not merged yet.");
        public static IEstimator<ITransformer> DynMoE(this RegressionCatalog.RegressionTrainers c, Microsoft.ML.DynMoE.DynMoERegressionTrainer.Options o) => throw new NotSupportedException("DynMoE trainers are not merged yet.");
    }
}
