
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>What <see cref="DynMoEBenchmark.Run"/> returns.</summary>
    public sealed class BenchmarkResult
    {
        /// <summary>Every finished row (succeeded and failed), derived rows included.</summary>
        public IReadOnlyList<BenchmarkRow> Rows { get; init; } = Array.Empty<BenchmarkRow>();
        /// <summary>The statistics over <see cref="Rows"/>.</summary>
        public BenchmarkSummary Summary { get; init; } = new();
        /// <summary>True when the run was cancelled; <see cref="Rows"/> holds the candidates that finished.</summary>
        public bool IsCancelled { get; init; }
        /// <summary>Wall-clock time.</summary>
        public TimeSpan Elapsed { get; init; }
    }
}
