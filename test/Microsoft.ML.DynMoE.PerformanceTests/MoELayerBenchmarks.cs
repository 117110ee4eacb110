using System;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.DynMoE.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// One MoE layer, forward + backward, 1024/4096/16384 tokens, d = 256, h = 512, all E slots active.
/// Top-any thresholds are set so about 4 experts fire per token at both E = 8 and E = 64 (cost should follow the
/// activated experts, not the slot count); the dense baseline has hidden width = (measured mean activated experts) × h.
/// </summary>
[Config(typeof(BenchmarkJobs.Micro))]
public class MoELayerBenchmarks
{
    public const int Tokens = 4096;
    public const int ModelDimension = 256;
    public const int HiddenDimension = 512;

    private MoELayer _layer = null!;
    private Tensor _input = null!;

    [Params(8, 64)]
    public int Experts { get; set; }

    /// <summary>Tokens per forward; the top-any thresholds and dense width are calibrated once at <see cref="Tokens"/>.</summary>
    [Params(1024, 4096, 16384)]
    public int TokenCount { get; set; } = Tokens;

    [Params("TopAny", "TopK2", "DenseEqualWidth")]
    public string Layer { get; set; } = "TopAny";

    /// <summary>Mean activated experts per token of the top-any layer at <paramref name="experts"/> slots.</summary>
    public static double TopAnyMeanActivated(int experts)
    {
        using var layer = CreateTopAny(experts);
        using var scope = NewDisposeScope();
        torch.random.manual_seed(2);
        layer.forward(torch.randn(Tokens, ModelDimension));
        return layer.RoutingStatistics.MeanActivatedExpertsPerToken;
    }

    /// <summary>Cosine threshold c with P(cos &gt; c) ≈ 4 / E for random tokens against orthonormal columns (σ = 1/√d); θ = c.</summary>
    public static double ThresholdForAboutFourExperts(int experts)
    {
        double tail = Math.Min(0.5, 4.0 / experts);
        return InverseStandardNormalTail(tail) / Math.Sqrt(ModelDimension);
    }

    internal static MoELayer CreateTopAny(int experts)
    {
        torch.random.manual_seed(1);
        var layer = new MoELayer("moe", new MoELayerOptions
        {
            ModelDimension = ModelDimension, ExpertHiddenDimension = HiddenDimension,
            Gating = GatingKind.TopAny, InitialExperts = experts, MaximumExperts = experts,
        });
        using (torch.no_grad())
        {
            layer.Thresholds!.fill_(ThresholdForAboutFourExperts(experts));
        }

        return layer;
    }

    internal static MoELayer Create(string kind, int experts)
    {
        torch.random.manual_seed(1);
        return kind switch
        {
            "TopAny" => CreateTopAny(experts),
            "TopK2" => new MoELayer("moe", new MoELayerOptions
            {
                ModelDimension = ModelDimension, ExpertHiddenDimension = HiddenDimension,
                Gating = GatingKind.TopK, TopK = 2, InitialExperts = experts, MaximumExperts = experts,
            }),
            _ => new MoELayer("moe", new MoELayerOptions
            {
                ModelDimension = ModelDimension,
                ExpertHiddenDimension = (int)Math.Round(TopAnyMeanActivated(experts) * HiddenDimension),
                Gating = GatingKind.Dense,
            }),
        };
    }

    [GlobalSetup]
    public void Setup()
    {
        _layer = Create(Layer, Experts);
        _layer.train();
        torch.random.manual_seed(3);
        _input = torch.randn(TokenCount, ModelDimension).requires_grad_(true);
    }

    /// <summary>Quick mode only: <see cref="ExpertBank.MaximumPaddingRatio"/> of the layer under test.</summary>
    public double PaddingRatio
    {
        set => _layer.Experts.MaximumPaddingRatio = value;
    }

    [Benchmark]
    public void ForwardBackward() => Step(_layer, _input);

    internal static void Step(MoELayer layer, Tensor input)
    {
        using var scope = NewDisposeScope();
        var loss = layer.forward(input).sum().add(layer.AuxiliaryLoss!);
        loss.backward();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _layer.Dispose();
        _input.Dispose();
    }

    private static double InverseStandardNormalTail(double p)
    {
        // Bisection on the upper tail 0.5 * erfc(z / sqrt 2); precise enough for a threshold.
        double low = 0, high = 10;
        for (int i = 0; i < 100; i++)
        {
            double mid = (low + high) / 2;
            if (0.5 * Erfc(mid / Math.Sqrt(2)) > p) low = mid; else high = mid;
        }

        return (low + high) / 2;
    }

    private static double Erfc(double x)
    {
        // Abramowitz-Stegun 7.1.26, |error| < 1.5e-7.
        double t = 1 / (1 + 0.3275911 * x);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return poly * Math.Exp(-x * x);
    }
}
