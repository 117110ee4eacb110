
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>Observes a benchmark run.</summary>
    public interface IBenchmarkMonitor
    {
        /// <summary>A candidate starts on a data set.</summary>
        void CandidateStarted(string dataSet, string candidate, int splits);
        /// <summary>One split (fold of a repeat) of the running candidate finished.</summary>
        void SplitFinished(string dataSet, string candidate, int split, int splits);
        /// <summary>A candidate finished (or failed: see <see cref="BenchmarkRow.Status"/>); <paramref name="rowsSoFar"/> holds every finished row.</summary>
        void CandidateFinished(BenchmarkRow row, IReadOnlyList<BenchmarkRow> rowsSoFar);
    }
}
