
namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Cost-aware tuner: cheapest candidate first. Starts from <see cref="ExperimentCandidate.RelativeCost"/> and, once a family
    /// has run, rescales that family's estimate by the measured seconds per unit of cost. Useful with a tight time budget.</summary>
    public sealed class CostFrugalTuner : ITuner
    {
        private readonly Dictionary<CandidateFamily, double> _secondsPerCost = new();

        /// <inheritdoc/>
        public ExperimentCandidate? Propose(int trialId, IReadOnlyList<ExperimentCandidate> remaining)
            => remaining.Count == 0 ? null : remaining.OrderBy(EstimatedCost).First();

        /// <inheritdoc/>
        public void Update(TrialResult result)
        {
            double cost = Math.Max(result.TrialSettings.Candidate.RelativeCost, 1e-6);
            _secondsPerCost[result.Family] = Math.Max(result.TrialSettings.Candidate.RelativeCost > 0 ? result.DurationInMilliseconds / 1000.0 / cost : 0, 1e-6);
        }

        private double EstimatedCost(ExperimentCandidate c)
        {
            double known = _secondsPerCost.Count == 0 ? 1 : _secondsPerCost.Values.Average();
            return c.RelativeCost * (_secondsPerCost.TryGetValue(c.Family, out var s) ? s : known);
        }
    }
}
