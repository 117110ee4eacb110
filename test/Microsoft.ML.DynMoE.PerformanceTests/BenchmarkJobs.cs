using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>Short in-process jobs so the whole suite fits in a few minutes on 2 cores.</summary>
public static class BenchmarkJobs
{
    private static Job InProcess(int warmups, int iterations)
        => Job.Default.WithLaunchCount(1).WithWarmupCount(warmups).WithIterationCount(iterations).WithToolchain(InProcessEmitToolchain.Instance);

    /// <summary>Micro-benchmarks (layer, GEMM): 3 warm-ups, 15 iterations.</summary>
    public sealed class Micro : ManualConfig
    {
        public Micro() => AddJob(InProcess(3, 15));
    }

    /// <summary>Scoring: 3 warm-ups, 10 iterations.</summary>
    public sealed class Scoring : ManualConfig
    {
        public Scoring() => AddJob(InProcess(3, 10));
    }

    /// <summary>Whole Fit calls (seconds each): monitoring strategy, 1 warm-up, 3 iterations, no pilot stage.</summary>
    public sealed class Fit : ManualConfig
    {
        public Fit() => AddJob(InProcess(1, 3).WithStrategy(RunStrategy.Monitoring));
    }
}
