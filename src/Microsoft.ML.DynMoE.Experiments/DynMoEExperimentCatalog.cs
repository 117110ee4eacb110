
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Entry point of the experiments package: <c>mlContext.DynMoE().CreateExperiment(...)</c>.</summary>
    public static class DynMoEExperimentCatalogExtensions
    {
        /// <summary>Returns the DynMoE experiment catalog (the analogue of AutoML's <c>mlContext.Auto()</c>).</summary>
        public static DynMoEExperimentCatalog DynMoE(this MLContext mlContext)
            => new DynMoEExperimentCatalog(mlContext ?? throw new ArgumentNullException(nameof(mlContext)));
    }

    /// <summary>Creates DynMoE experiments.</summary>
    public sealed class DynMoEExperimentCatalog
    {
        private readonly MLContext _mlContext;

        internal DynMoEExperimentCatalog(MLContext mlContext) => _mlContext = mlContext;

        /// <summary>Creates an experiment with the default candidates (see <see cref="ExperimentCandidate.CreateDefaults(DynMoEExperimentSettings)"/>).</summary>
        /// <param name="settings">Settings; null for defaults.</param>
        public DynMoEExperiment CreateExperiment(DynMoEExperimentSettings? settings = null)
            => new DynMoEExperiment(_mlContext, settings ?? new DynMoEExperimentSettings());
    }
}
