
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Observes an experiment (same method names as AutoML's <c>IMonitor</c>).</summary>
    public interface IMonitor
    {
        /// <summary>A trial starts.</summary>
        void ReportRunningTrial(TrialSettings settings);
        /// <summary>A trial finished successfully.</summary>
        void ReportCompletedTrial(TrialResult result);
        /// <summary>A trial became the best so far.</summary>
        void ReportBestTrial(TrialResult result);
        /// <summary>A trial failed; the experiment continues.</summary>
        void ReportFailTrial(TrialSettings settings, Exception? exception = null);
    }
}
