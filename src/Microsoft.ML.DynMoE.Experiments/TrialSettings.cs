
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Identifies one trial (mirrors AutoML's <c>TrialSettings</c>).</summary>
    public sealed class TrialSettings
    {
        internal TrialSettings(int trialId, ExperimentCandidate candidate)
        {
            TrialId = trialId;
            Candidate = candidate;
            StartedAtUtc = DateTime.UtcNow;
        }

        /// <summary>Sequential trial id starting at 0.</summary>
        public int TrialId { get; }

        /// <summary>The candidate being trained.</summary>
        public ExperimentCandidate Candidate { get; }

        /// <summary>Start time (UTC).</summary>
        public DateTime StartedAtUtc { get; }

        /// <summary>End time (UTC), once finished.</summary>
        public DateTime? EndedAtUtc { get; internal set; }
    }
}
