
namespace Microsoft.ML.DynMoE.Experiments
{
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
}
