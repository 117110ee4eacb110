
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>Settings of a <see cref="DynMoEBenchmark"/>.</summary>
    public sealed class DynMoEBenchmarkSettings
    {
        /// <summary>The candidate groups a benchmark knows, in run order.</summary>
        public static IReadOnlyList<string> KnownCandidates { get; } = new[] { "dynmoe", "topk", "tuned", "dense", "lightgbm", "fasttree", "sdca", "lbfgs" };

        /// <summary>Folds per repeat (stratified by label; by label order for regression). Default 5.</summary>
        public int Folds { get; set; } = 5;
        /// <summary>Repeats of the k-fold split, each with its own shuffle. Default 3.</summary>
        public int Repeats { get; set; } = 3;
        /// <summary>Seed of the splits; split s trains every candidate with seed <c>Seed + s</c>. Default 0.</summary>
        public int Seed { get; set; }
        /// <summary>Epoch budget of every neural candidate on tabular data. Default 30.</summary>
        public int NumberOfEpochs { get; set; } = 30;
        /// <summary>Epoch budget of the neural candidates on text data sets. Default 6.</summary>
        public int TextEpochs { get; set; } = 6;
        /// <summary>Epoch budget of the neural candidates on image data sets. Default 60, the image trainer's own.</summary>
        public int ImageEpochs { get; set; } = 60;
        /// <summary>Residual width of the neural candidates. Default 64.</summary>
        public int ModelDimension { get; set; } = 64;
        /// <summary>Expert width of the neural candidates on tabular data, twice it on text and images (the dense candidate uses twice the expert width). Default 64.</summary>
        public int ExpertHiddenDimension { get; set; } = 64;
        /// <summary>MoE layers. Default 2.</summary>
        public int NumberOfLayers { get; set; } = 2;
        /// <summary>CPU threads per neural fit. Default 1.</summary>
        public int NumberOfThreads { get; set; } = 1;
        /// <summary>Fits run at once (each single-threaded; results do not depend on it: every fit has its own seed and context). Default 1.</summary>
        public int MaximumParallelism { get; set; } = 1;
        /// <summary>Share of each training fold held out to pick TopKTuned's (k, experts). Default 0.2.</summary>
        public double InnerValidationFraction { get; set; } = 0.2;
        /// <summary>Fixed k values of the top-k grid. Default {1, 2, 4}.</summary>
        public IReadOnlyList<int> GridK { get; set; } = new[] { 1, 2, 4 };
        /// <summary>Expert counts of the top-k grid. Default {4, 8, 16}.</summary>
        public IReadOnlyList<int> GridExperts { get; set; } = new[] { 4, 8, 16 };
        /// <summary>Candidate groups to run (see <see cref="KnownCandidates"/>; "tuned" needs "topk"). Default all but lbfgs.</summary>
        public ISet<string> Candidates { get; set; } = new HashSet<string>(new[] { "dynmoe", "topk", "tuned", "dense", "lightgbm", "fasttree", "sdca" }, StringComparer.OrdinalIgnoreCase);
        /// <summary>Extra DynMoE configurations (an ablation), run after DynMoE (defaults).</summary>
        public IList<DynMoEVariant> Variants { get; set; } = new List<DynMoEVariant>();
        /// <summary>Changes to the experiment settings the candidates are built from (e.g. the DynMoE method options of DynMoE (defaults)).</summary>
        public Action<DynMoEExperimentSettings>? ConfigureExperiment { get; set; }
        /// <summary>Free-form protocol notes copied into summary.json (e.g. "quick").</summary>
        public IDictionary<string, string> Notes { get; set; } = new Dictionary<string, string>();
    }
}
