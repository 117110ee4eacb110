using System;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TorchSharp;

namespace Microsoft.ML.DynMoE.PerformanceTests;

public static class Program
{
    /// <summary>
    /// <c>dotnet run -c Release --project test/Microsoft.ML.DynMoE.PerformanceTests -- --filter '*'</c> runs BenchmarkDotNet
    /// (short in-process job); <c>-- --quick</c> prints a Stopwatch estimate of the same cases in under a minute;
    /// <c>-- --text-quality FILE [--epochs N] [--results DIR] [--models "A;B"]</c> and <c>-- --text-speed FILE [--training-only]</c> run the text classifier comparisons (see <see cref="TextBenchmarks"/>).
    /// </summary>
    public static int Main(string[] args)
    {
        Console.WriteLine($"torch threads: {torch.get_num_threads()}");
        foreach (int experts in new[] { 8, 64 })
        {
            Console.WriteLine($"E={experts}: top-any theta={MoELayerBenchmarks.ThresholdForAboutFourExperts(experts):F4}, mean activated experts={MoELayerBenchmarks.TopAnyMeanActivated(experts):F3}");
        }

        if (args.Length > 0 && args[0] == "--profile")
        {
            Profile(args.Length > 1 ? int.Parse(args[1]) : 8);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--encoder-speed")
        {
            EncoderBenchmarks.Speed(args);
            return 0;
        }

        if (args.Length > 1 && args[0] == "--text-fit")
        {
            EncoderBenchmarks.TextFit(args[1], args);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--scorer-speed")
        {
            EncoderBenchmarks.ScorerSpeed(args);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--pretrained-scoring")
        {
            PretrainedScoringBenchmarks.Run(args);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--encoder-profile")
        {
            EncoderBenchmarks.Profile(args);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--fit-activation")
        {
            TrainingBenchmarks.PrintActivation();
            return 0;
        }

        if (args.Length > 0 && args[0] == "--quick")
        {
            Quick();
            return 0;
        }

        if (args.Length > 1 && args[0] == "--text-quality")
        {
            string? Flag(string name) => Array.IndexOf(args, name) is int i and > 1 && i + 1 < args.Length ? args[i + 1] : null;
            TextBenchmarks.Quality(args[1], Flag("--epochs") is string e ? int.Parse(e, CultureInfo.InvariantCulture) : null, Flag("--results"), Flag("--models")?.Split(';'));
            return 0;
        }

        if (args.Length > 1 && args[0] == "--text-speed")
        {
            TextBenchmarks.Speed(args[1], trainingOnly: Array.IndexOf(args, "--training-only") > 1);
            return 0;
        }

        if (args.Length > 1 && args[0] == "--images-quality")
        {
            ImageHarness.Quality(args[1], args);
            return 0;
        }

        if (args.Length > 1 && args[0] == "--images-speed")
        {
            ImageHarness.Speed(args[1], args);
            return 0;
        }

        if (args.Length > 1 && args[0] == "--images-memory")
        {
            ImageHarness.Memory(args[1], args);
            return 0;
        }

        if (args.Length > 4 && args[0] == "--images-memory-child")
        {
            ImageHarness.MemoryChild(args);
            return 0;
        }

        if (args.Length > 0 && args[0] == "--onnx-text")
        {
            OnnxTextScoringBenchmarks.RunInterleaved();
            return 0;
        }

        if (args.Length > 0 && args[0] == "--onnx-image")
        {
            OnnxImageScoringBenchmarks.RunInterleaved();
            return 0;
        }

        if (args.Length > 0 && args[0] == "--onnx")
        {
            OnnxScoringBenchmarks.RunInterleaved();
            return 0;
        }

        if (args.Length > 0 && args[0] == "--memory")
        {
            MemoryScaling.Run();
            return 0;
        }

        if (args.Length > 1 && args[0] == "--memory-child")
        {
            MemoryScaling.Child(long.Parse(args[1]), long.Parse(args[2]));
            return 0;
        }

        // Each benchmark class sets its own short job; all run in process (TorchSharp's native libraries are already
        // next to this executable). The median resists the noise of a shared machine better than the mean.
        var config = DefaultConfig.Instance.AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }

    private static void Profile(int experts)
    {
        using var layer = MoELayerBenchmarks.CreateTopAny(experts);
        layer.train();
        var x = torch.randn(MoELayerBenchmarks.Tokens, MoELayerBenchmarks.ModelDimension).requires_grad_(true);
        void Time(string what, Action action)
        {
            action();
            var watch = Stopwatch.StartNew();
            double best = double.MaxValue;
            for (int i = 0; i < 4; i++)
            {
                watch.Restart();
                action();
                best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine($"{what,-32} best {best,8:F1} ms");
        }

        Time("gate forward", () => { using var s = torch.NewDisposeScope(); layer.TopAnyGate!.forward(x, layer.ExpertMask); });
        Time("gate forward+backward", () => { using var s = torch.NewDisposeScope(); var d = layer.TopAnyGate!.forward(x, layer.ExpertMask); d.CombineWeights.sum().add(d.AuxiliaryLoss).backward(); });
        Time("layer forward", () => { using var s = torch.NewDisposeScope(); layer.forward(x); });
        Time("layer forward+backward", () => { using var s = torch.NewDisposeScope(); layer.forward(x).sum().backward(); });
        using var scope = torch.NewDisposeScope();
        var decision = layer.TopAnyGate!.forward(x, layer.ExpertMask);
        var routed = decision.Routed;
        var combine = decision.CombineWeights.detach();
        Time("experts forward (fixed routing)", () => { using var s = torch.NewDisposeScope(); layer.Experts.forward(x, routed, combine); });
        Time("experts fwd+bwd (fixed routing)", () => { using var s = torch.NewDisposeScope(); layer.Experts.forward(x, routed, combine).sum().backward(); });
        using var dense = MoELayerBenchmarks.Create("DenseEqualWidth", experts);
        dense.train();
        Time("dense 4x width fwd+bwd", () => { using var s = torch.NewDisposeScope(); dense.forward(x).sum().backward(); });
    }

    private static void Quick()
    {
        foreach (int experts in new[] { 8, 64 })
        {
            foreach (string kind in new[] { "TopAny", "TopK2", "DenseEqualWidth" })
            {
                var bench = new MoELayerBenchmarks { Experts = experts, Layer = kind };
                bench.Setup();
                // Interleave looped and batched dispatch so both see the same machine load.
                var ratios = kind == "DenseEqualWidth" ? new[] { 1.3 } : new[] { 0, 1.3 };
                var best = new double[ratios.Length];
                Array.Fill(best, double.MaxValue);
                for (int i = 0; i < 6; i++)
                {
                    for (int r = 0; r < ratios.Length; r++)
                    {
                        bench.PaddingRatio = ratios[r];
                        var watch = Stopwatch.StartNew();
                        bench.ForwardBackward();
                        if (i >= 1) best[r] = Math.Min(best[r], watch.Elapsed.TotalMilliseconds);
                    }
                }

                for (int r = 0; r < ratios.Length; r++)
                {
                    Console.WriteLine($"E={experts,2} {kind,-16} padding ratio {ratios[r],3} best {best[r],8:F1} ms");
                }

                bench.Cleanup();
            }
        }
    }
}
