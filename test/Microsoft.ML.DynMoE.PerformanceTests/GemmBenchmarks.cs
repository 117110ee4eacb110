using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// The compute ceiling for expert FFN work: libtorch float32 GEMM on the expert shape [2048 × 256] · [256 × 512]
/// (0.537 GFLOP per call), with TorchSharp's default thread count. GFLOP/s = 0.537 / seconds.
/// </summary>
[Config(typeof(BenchmarkJobs.Micro))]
public class GemmBenchmarks
{
    private Tensor _a = null!;
    private Tensor _b = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.random.manual_seed(1);
        _a = torch.randn(2048, 256);
        _b = torch.randn(256, 512);
    }

    [Benchmark]
    public void Gemm2048x256x512()
    {
        using var product = _a.matmul(_b);
    }
}
