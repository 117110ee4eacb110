
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Proposes which candidate to try next (mirrors AutoML's <c>ITuner</c>; tuners minimise <see cref="TrialResult.Loss"/>).</summary>
    public interface ITuner
    {
        /// <summary>Chooses the next candidate among those not tried yet, or null to stop.</summary>
        ExperimentCandidate? Propose(int trialId, IReadOnlyList<ExperimentCandidate> remaining);

        /// <summary>Receives the result of a finished trial.</summary>
        void Update(TrialResult result);
    }
}
