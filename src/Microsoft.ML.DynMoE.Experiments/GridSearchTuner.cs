
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Default tuner: tries the candidates in the order they were added.</summary>
    public sealed class GridSearchTuner : ITuner
    {
        /// <inheritdoc/>
        public ExperimentCandidate? Propose(int trialId, IReadOnlyList<ExperimentCandidate> remaining) => remaining.Count == 0 ? null : remaining[0];

        /// <inheritdoc/>
        public void Update(TrialResult result) { }
    }
}
