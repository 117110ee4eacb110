
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>What a candidate's trainer factory receives.</summary>
    public sealed class CandidateBuildContext
    {
        internal CandidateBuildContext(MLContext mlContext, ExperimentTask task, DynMoEExperimentSettings settings, int seed, CancellationToken cancellationToken)
        {
            MLContext = mlContext;
            Task = task;
            Settings = settings;
            Seed = seed;
            CancellationToken = cancellationToken;
        }

        /// <summary>The ML context of this trial.</summary>
        public MLContext MLContext { get; }
        /// <summary>The task.</summary>
        public ExperimentTask Task { get; }
        /// <summary>Experiment settings (column names, neural budget).</summary>
        public DynMoEExperimentSettings Settings { get; }
        /// <summary>Seed of the experiment.</summary>
        public int Seed { get; }
        /// <summary>Cancelled when the experiment is cancelled.</summary>
        public CancellationToken CancellationToken { get; }
        /// <summary>Label column name.</summary>
        public string LabelColumnName => Settings.LabelColumnName;
        /// <summary>Feature column name.</summary>
        public string FeatureColumnName => Settings.FeatureColumnName;
        /// <summary>Example weight column name, if any.</summary>
        public string? ExampleWeightColumnName => Settings.ExampleWeightColumnName;
    }
}
