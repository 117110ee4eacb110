using System;
using System.Collections.Generic;
using System.Linq;

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

    /// <summary>Tries the candidates in a random order fixed by the seed.</summary>
    public sealed class RandomSearchTuner : ITuner
    {
        private readonly Random _random;

        /// <summary>Creates the tuner.</summary>
        /// <param name="seed">Seed; null uses 0.</param>
        public RandomSearchTuner(int? seed = null) => _random = new Random(seed ?? 0);

        /// <inheritdoc/>
        public ExperimentCandidate? Propose(int trialId, IReadOnlyList<ExperimentCandidate> remaining)
            => remaining.Count == 0 ? null : remaining[_random.Next(remaining.Count)];

        /// <inheritdoc/>
        public void Update(TrialResult result) { }
    }

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

    /// <summary>Writes AutoML-style log lines (<c>Update Completed Trial - Id: N - Metric: M - Pipeline: P - Duration: ms</c>).</summary>
    public sealed class TextWriterMonitor : IMonitor
    {
        private readonly System.IO.TextWriter _writer;

        /// <summary>Creates a monitor writing to <paramref name="writer"/>.</summary>
        public TextWriterMonitor(System.IO.TextWriter writer) => _writer = writer ?? throw new ArgumentNullException(nameof(writer));

        /// <inheritdoc/>
        public void ReportRunningTrial(TrialSettings settings)
            => _writer.WriteLine($"Update Running Trial - Id: {settings.TrialId} - Pipeline: {settings.Candidate.Name}");

        /// <inheritdoc/>
        public void ReportCompletedTrial(TrialResult result)
            => _writer.WriteLine(FormattableString.Invariant($"Update Completed Trial - Id: {result.TrialSettings.TrialId} - Metric: {result.Metric:F4} - Pipeline: {result.Name} - Duration: {result.DurationInMilliseconds:F0}"));

        /// <inheritdoc/>
        public void ReportBestTrial(TrialResult result)
            => _writer.WriteLine(FormattableString.Invariant($"Update Best Trial - Id: {result.TrialSettings.TrialId} - Metric: {result.Metric:F4} - Pipeline: {result.Name}"));

        /// <inheritdoc/>
        public void ReportFailTrial(TrialSettings settings, Exception? exception = null)
            => _writer.WriteLine($"Update Failed Trial - Id: {settings.TrialId} - Pipeline: {settings.Candidate.Name} - Error: {exception?.Message}");
    }
}
