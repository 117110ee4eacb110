using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using TorchSharp;
using TorchSharp.Modules;
using TransformerEncoder = Microsoft.ML.DynMoE.Layers.TransformerEncoder;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// The Transformer encoder's training step against the compute ceiling, on synthetic token ids (every sequence full
/// length), all measured in one process: <c>--encoder-speed [--width 64] [--blocks 2] [--heads 4] [--hidden 128]
/// [--batch 32] [--tokens 256] [--steps 4] [--rounds 3] [--threads 1]</c>. Prints the single-thread GEMM ceiling, then per
/// encoder the median step (CPU and wall seconds), the useful GFLOP/s and its share of the ceiling: DynMoE (top-any, 4 → ≤ 8
/// experts, MoE FFN every other block), the dense encoder of equal activated width (our modules), and the same dense
/// encoder built from TorchSharp's <c>nn.TransformerEncoderLayer</c>. <c>--encoder-profile</c> splits one DynMoE step.
/// </summary>
internal static class EncoderBenchmarks
{
    internal sealed record Shape(int Width, int Blocks, int Heads, int Hidden, int Batch, int Tokens, int Threads, int Vocabulary, bool Image = false)
    {
        /// <summary>The input embedding: token ids, or 28×28 one-channel images cut into 4×4 patches (49 tokens).</summary>
        public InputEmbedding CreateEmbedding(Generator generator) => Image
            ? new PatchEmbedding("embedding", 28, 28, 1, 4, false, Width, generator)
            : new TokenEmbedding("embedding", Vocabulary, Width, Tokens, generator);
    }

    private static Shape ParseShape(string[] args)
    {
        int Flag(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        int width = Flag("--width", 64);
        bool image = Array.IndexOf(args, "--image") >= 0;
        return new Shape(width, Flag("--blocks", 2), Flag("--heads", Math.Max(1, width / 16)), Flag("--hidden", 2 * width), Flag("--batch", 32), image ? 49 : Flag("--tokens", 256),
            Flag("--threads", 1), Flag("--vocab", 20000), image);
    }

    /// <summary>
    /// GFLOP/s of float32 [2048 × 256] · [256 × 512] products (0.537 GFLOP each) on the current thread count, per CPU
    /// second (the process's CPU time, so other jobs on the machine do not lower it), best of 5 batches of 10.
    /// </summary>
    public static double GemmCeiling()
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(1);
        var a = torch.randn(2048, 256);
        var b = torch.randn(256, 512);
        double best = double.MaxValue;
        for (int batch = 0; batch < 6; batch++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            for (int i = 0; i < 10; i++)
            {
                using var product = a.matmul(b);
            }
            if (batch > 0)
                best = Math.Min(best, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds / 10);
        }

        return 2.0 * 2048 * 256 * 512 / best / 1e9;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }

    internal static TransformerEncoder CreateEncoder(Shape shape, GatingKind gating, int hidden, long seed = 1)
    {
        using var generator = new Generator((ulong)seed, torch.CPU);
        var options = new TransformerEncoderOptions
        {
            OutputDimension = 1,
            NumberOfLayers = shape.Blocks,
            NumberOfHeads = shape.Heads,
            Layer = new MoELayerOptions { ModelDimension = shape.Width, ExpertHiddenDimension = hidden, Gating = gating, InitialExperts = 4, MaximumExperts = 8, TopK = 2 },
        };
        if (gating == GatingKind.Dense)
            options.Layer.InitialExperts = options.Layer.MaximumExperts = 1;
        return new TransformerEncoder(options, shape.CreateEmbedding(generator), generator);
    }

    /// <summary>The dense encoder from TorchSharp's standard modules (post-norm <c>nn.TransformerEncoderLayer</c>, GELU, no dropout).</summary>
    private sealed class StandardEncoder : MoENetwork
    {
        private readonly Embedding _embedding;
        private readonly Parameter _positions;
        private readonly TransformerEncoderLayer[] _layers;
        private readonly LayerNorm _norm;
        private readonly Linear _head;

        public StandardEncoder(Shape shape, double[] widths)
            : base(nameof(StandardEncoder))
        {
            torch.random.manual_seed(1);
            _embedding = nn.Embedding(shape.Vocabulary, shape.Width);
            _positions = new Parameter(torch.randn(shape.Tokens, shape.Width).mul_(0.02));
            _layers = widths.Select(w => nn.TransformerEncoderLayer(shape.Width, shape.Heads, (long)Math.Round(w), 0.0, nn.Activations.GELU)).ToArray();
            _norm = nn.LayerNorm(shape.Width);
            _head = nn.Linear(shape.Width, 1);
            register_module("embedding", _embedding);
            register_parameter("positions", _positions);
            for (int i = 0; i < _layers.Length; i++)
                register_module($"layer{i}", _layers[i]);
            register_module("norm", _norm);
            register_module("head", _head);
        }

        public override IReadOnlyList<MoELayer> MoELayers => Array.Empty<MoELayer>();

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var ids = input.to(ScalarType.Int64);
            var hidden = _embedding.forward(ids).add(_positions.narrow(0, 0, ids.shape[1])).transpose(0, 1);
            foreach (var layer in _layers)
                hidden = layer.call(hidden);
            var pooled = _norm.forward(hidden).mean(new long[] { 0 });
            return _head.forward(pooled).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Useful forward FLOPs of one full-length sequence: projections, attention over all tokens and the FFN's activated width.</summary>
    private static double ForwardFlops(Shape shape, double[] ffnWidths)
    {
        double d = shape.Width, s = shape.Tokens, total = 0;
        foreach (double h in ffnWidths)
            total += s * (2 * d * 3 * d + 2 * d * d + 4 * s * d + 4 * d * h);
        return total;
    }

    private static Tensor Batch(Shape shape, Random random)
    {
        if (shape.Image)
            return torch.tensor(Enumerable.Range(0, shape.Batch * 784).Select(_ => (float)random.NextDouble()).ToArray(), new long[] { shape.Batch, 784 });
        var ids = new float[shape.Batch * shape.Tokens];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = 3 + (int)Math.Min(shape.Vocabulary - 4, Math.Exp(random.NextDouble() * Math.Log(shape.Vocabulary - 4)));
        return torch.tensor(ids, new long[] { shape.Batch, shape.Tokens });
    }

    private sealed class Trainee : IDisposable
    {
        private readonly MoEAdamW _optimizer;
        private readonly Parameter[] _parameters;
        private readonly AdaptationSchedule _schedule;
        private int _step;

        public Trainee(string name, MoENetwork network, double[] ffnWidths)
        {
            Name = name;
            Network = network;
            FfnWidths = ffnWidths;
            network.train();
            _parameters = network.parameters().Where(p => p.requires_grad).ToArray();
            _optimizer = new MoEAdamW(new[] { ((IEnumerable<Parameter>)_parameters, 1.0) }, 1e-3, 0.01);
            _schedule = network.MoELayers.Count > 0 ? AdaptationSchedule.PerEpochWindow() : AdaptationSchedule.Off;
        }

        public string Name { get; }
        public MoENetwork Network { get; }
        public double[] FfnWidths { get; set; }
        public List<double> Cpu { get; } = new();
        public List<double> Wall { get; } = new();

        /// <summary>One training step as the trainer runs it (10 steps per "epoch" for the adaptation window).</summary>
        public void Step(Tensor x, Tensor y)
        {
            using var scope = NewDisposeScope();
            var layers = Network.MoELayers;
            _schedule.BeforeStep(layers, _step % 10, 10, _step);
            var logits = Network.forward(x);
            var loss = nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), y);
            if (Network.AuxiliaryLoss is Tensor aux)
                loss = loss.add(aux);
            _optimizer.ZeroGrad();
            loss.backward();
            nn.utils.clip_grad_norm_(_parameters, 1.0);
            _optimizer.Step();
            _schedule.AfterStep(layers, _step % 10, 10, _step);
            _step++;
        }

        public void Dispose()
        {
            _optimizer.Dispose();
            Network.Dispose();
        }
    }

    public static void Speed(string[] args)
    {
        var shape = ParseShape(args);
        int Flag(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        int steps = Flag("--steps", 4), rounds = Flag("--rounds", 3);
        NativeReproducibility.Ensure();
        torch.set_num_threads(1);
        double ceiling = GemmCeiling();
        torch.set_num_threads(shape.Threads);
        double ceilingThreads = shape.Threads == 1 ? ceiling : GemmCeiling();
        Console.WriteLine($"shape {shape}; GEMM ceiling {ceiling:F1} GFLOP/s on 1 thread, {ceilingThreads:F1} on {shape.Threads}");

        var random = new Random(1);
        var x = Batch(shape, random);
        var y = torch.tensor(Enumerable.Range(0, shape.Batch).Select(i => (float)(i % 2)).ToArray());

        // DynMoE first, a few steps past its first adaptation window, to find its activated width.
        var dynmoe = new Trainee("DynMoE (top-any, 4 → ≤ 8)", CreateEncoder(shape, GatingKind.TopAny, shape.Hidden), Array.Empty<double>());
        for (int i = 0; i < 8; i++)
            dynmoe.Step(x, y);
        double activated = MeanActivated(dynmoe.Network, x);
        int equalWidth = (int)Math.Round(shape.Hidden * activated);
        var widths = Enumerable.Range(0, shape.Blocks).Select(b => new TransformerEncoderOptions { NumberOfLayers = shape.Blocks }.IsMoEBlock(b) ? shape.Hidden * activated : shape.Hidden).ToArray();
        dynmoe.FfnWidths = widths;
        var equalWidths = Enumerable.Range(0, shape.Blocks).Select(b => new TransformerEncoderOptions { NumberOfLayers = shape.Blocks }.IsMoEBlock(b) ? (double)equalWidth : shape.Hidden).ToArray();
        var trainees = new List<Trainee>
        {
            dynmoe,
            new($"dense, our modules, MoE-block FFN width {equalWidth}", new DenseBlocks(shape, equalWidths), equalWidths),
        };
        if (!shape.Image)
            trainees.Add(new($"dense, nn.TransformerEncoderLayer, FFN width {equalWidth}", new StandardEncoder(shape, equalWidths), equalWidths));
        if (Array.IndexOf(args, "--topk") >= 0)
            trainees.Add(new("top-2 of 8", CreateEncoder(shape, GatingKind.TopK, shape.Hidden), widths.Select((w, b) => w == shape.Hidden * activated ? 2.0 * shape.Hidden : w).ToArray()));
        Console.WriteLine($"DynMoE activates {activated:F2} experts per token after 8 steps");

        foreach (var t in trainees)
            t.Step(x, y);
        for (int round = 0; round < rounds; round++)
        {
            foreach (var t in trainees)
            {
                for (int i = 0; i < steps; i++)
                {
                    var cpu = Environment.CpuUsage.TotalTime;
                    var watch = Stopwatch.StartNew();
                    t.Step(x, y);
                    t.Wall.Add(watch.Elapsed.TotalSeconds);
                    t.Cpu.Add((Environment.CpuUsage.TotalTime - cpu).TotalSeconds);
                }
            }
        }

        Console.WriteLine($"| Encoder (width {shape.Width}, {shape.Blocks} blocks, {shape.Heads} heads, batch {shape.Batch} × {shape.Tokens} tokens, {shape.Threads} thread(s)) | Step, CPU s (median) | Step, wall s (median) | Useful GFLOP/s (CPU) | ÷ 1-thread GEMM ceiling | CPU ÷ dense (our modules) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        double denseCpu = Median(trainees[1].Cpu);
        foreach (var t in trainees)
        {
            double flops = 3 * ForwardFlops(shape, t.FfnWidths) * shape.Batch;
            double cpu = Median(t.Cpu), wall = Median(t.Wall);
            double rate = flops / cpu / 1e9;
            Console.WriteLine($"| {t.Name} | {cpu:F3} | {wall:F3} | {rate:F1} | {rate / ceiling:F3} | {cpu / denseCpu:F2} |");
        }

        foreach (var t in trainees)
            t.Dispose();
    }

    /// <summary>A dense encoder of our blocks with its own FFN width per block (TransformerEncoder gives every dense block one width).</summary>
    private sealed class DenseBlocks : MoENetwork
    {
        private readonly InputEmbedding _embedding;
        private readonly TransformerBlock[] _blocks;
        private readonly LayerNorm _norm;
        private readonly Linear _head;

        public DenseBlocks(Shape shape, double[] widths)
            : base(nameof(DenseBlocks))
        {
            using var generator = new Generator(1, torch.CPU);
            _embedding = shape.CreateEmbedding(generator);
            register_module("embedding", _embedding);
            register_parameter("positions", new Parameter(torch.randn(shape.Tokens, shape.Width, generator: generator).mul_(0.02)));
            _blocks = widths.Select((w, i) => new TransformerBlock($"block{i}", shape.Heads,
                new MoELayerOptions { ModelDimension = shape.Width, ExpertHiddenDimension = (int)Math.Round(w), Gating = GatingKind.Dense, InitialExperts = 1, MaximumExperts = 1 }, generator)).ToArray();
            for (int i = 0; i < _blocks.Length; i++)
                register_module($"block{i}", _blocks[i]);
            _norm = nn.LayerNorm(shape.Width);
            _head = nn.Linear(shape.Width, 1);
            register_module("norm", _norm);
            register_module("head", _head);
        }

        public override IReadOnlyList<MoELayer> MoELayers => Array.Empty<MoELayer>();

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var mask = _embedding.TokenMask(input);
            var hidden = _embedding.forward(input);
            hidden = hidden.add(get_parameter("positions")!.narrow(0, 0, hidden.shape[1]));
            foreach (var block in _blocks)
                hidden = block.forward(hidden, mask);
            var pooled = _norm.forward(hidden).mean(new long[] { 1 });
            return _head.forward(pooled).MoveToOuterDisposeScope();
        }
    }

    private static double MeanActivated(MoENetwork network, Tensor x)
    {
        var layers = network.MoELayers;
        foreach (var l in layers)
            l.ResetRoutingStatistics();
        using (torch.no_grad())
        using (var scope = NewDisposeScope())
            network.forward(x);
        return layers.Average(l => l.RoutingStatistics.MeanActivatedExpertsPerToken);
    }

    /// <summary>Splits a DynMoE training step: forward, backward and optimizer, and each block part's forward + backward alone.</summary>
    public static void Profile(string[] args)
    {
        var shape = ParseShape(args);
        NativeReproducibility.Ensure();
        torch.set_num_threads(shape.Threads);
        var random = new Random(1);
        var x = Batch(shape, random);
        var y = torch.tensor(Enumerable.Range(0, shape.Batch).Select(i => (float)(i % 2)).ToArray());
        var trainee = new Trainee("DynMoE", CreateEncoder(shape, GatingKind.TopAny, shape.Hidden), Array.Empty<double>());
        for (int i = 0; i < 3; i++)
            trainee.Step(x, y);
        var encoder = (TransformerEncoder)trainee.Network;

        double Time(Action action, int repeats = 5)
        {
            action();
            var times = new List<double>();
            for (int i = 0; i < repeats; i++)
            {
                var cpu = Environment.CpuUsage.TotalTime;
                action();
                times.Add((Environment.CpuUsage.TotalTime - cpu).TotalSeconds * 1000);
            }
            return Median(times);
        }

        var hidden = torch.randn(shape.Batch, shape.Tokens, shape.Width);
        var mask = torch.ones(shape.Batch, shape.Tokens, dtype: ScalarType.Bool);
        Console.WriteLine($"shape {shape}; CPU ms, median of 5");
        Console.WriteLine($"full step: {Time(() => trainee.Step(x, y)):F1}");
        Console.WriteLine($"forward (train mode, graph kept): {Time(() => { using var s = NewDisposeScope(); encoder.forward(x); }):F1}");
        Console.WriteLine($"forward + backward: {Time(() => { using var s = NewDisposeScope(); encoder.forward(x).sum().backward(); }):F1}");
        Console.WriteLine($"forward, eval, no_grad: {Time(() => { using var s = NewDisposeScope(); using var g = torch.no_grad(); encoder.eval(); encoder.forward(x); encoder.train(); }):F1}");
        foreach (var block in encoder.Blocks)
        {
            var input = hidden.detach().requires_grad_(true);
            Console.WriteLine($"{block.GetName()}: attention fwd+bwd {Time(() => { using var s = NewDisposeScope(); block.Attention.forward(input, mask).sum().backward(); }):F1}, "
                + $"FFN ({block.FeedForward.Options.Gating}) fwd+bwd {Time(() => { using var s = NewDisposeScope(); block.FeedForward.forward(input, mask).sum().backward(); }):F1}, "
                + $"FFN unmasked fwd+bwd {Time(() => { using var s = NewDisposeScope(); block.FeedForward.forward(input).sum().backward(); }):F1}, "
                + $"2 LayerNorms fwd+bwd {Time(() => { using var s = NewDisposeScope(); block.FeedForwardNorm.forward(block.AttentionNorm.forward(input)).sum().backward(); }):F1}");
        }
        trainee.Dispose();
    }

    /// <summary>
    /// One DynMoE text fit at the defaults on the first <c>--rows</c> messages (all by default) of a <c>Label,Text</c> CSV for
    /// <c>--epochs</c> epochs: CPU and wall seconds, real training tokens per CPU-second, and the process's peak resident
    /// memory (VmHWM) with the managed heap's share.
    /// </summary>
    public static void TextFit(string path, string[] args)
    {
        int Flag(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        int rows = Flag("--rows", int.MaxValue), epochs = Flag("--epochs", 1), threads = Flag("--threads", 1);
        var ml = new MLContext(seed: 1);
        var all = ml.Data.CreateEnumerable<TextBenchmarks.Message>(TextBenchmarks.Load(ml, path), reuseRowObject: false).Take(rows).ToArray();
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForModel("gpt-4");
        long tokens = all.Sum(m => (long)Math.Min(256, tokenizer.CountTokens(m.Text)));
        var data = ml.Data.LoadFromEnumerable(all);
        Console.WriteLine($"{all.Length} messages, {tokens} real tokens (≤ 256 each) per epoch; VmHWM before the fit {PeakResidentMiB():F0} MiB");
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var options = new DynMoEBinaryTextClassificationTrainer.Options { NumberOfEpochs = epochs, Seed = 1, NumberOfThreads = threads };
        // Where memory goes, per progress report: resident now and at peak, live tensors; with --trim, resident after
        // malloc_trim too (what the native heap holds freed but not returned).
        if (Array.IndexOf(args, "--trace") >= 0)
            options.Progress = new Reporter(p => Console.WriteLine(
                $"epoch {p.Epoch} step {p.Step}: resident {ResidentMiB():F0} MiB, peak {PeakResidentMiB():F0} MiB, "
                + $"live tensors {TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount}, managed {GC.GetTotalMemory(false) / 1048576.0:F0} MiB"
                + (Array.IndexOf(args, "--trim") < 0 ? "" : $", after malloc_trim {(MallocTrim(0) >= 0 ? ResidentMiB() : 0):F0} MiB")));
        var model = ml.BinaryClassification.Trainers.DynMoETextClassification(options).Fit(data);
        double wall = watch.Elapsed.TotalSeconds, cpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        Console.WriteLine($"fit: {wall:F1} s wall, {cpuSeconds:F1} CPU-s, {epochs * tokens / cpuSeconds:F0} training tokens per CPU-second; "
            + $"peak resident {PeakResidentMiB():F0} MiB, managed heap now {GC.GetTotalMemory(false) / 1048576.0:F0} MiB "
            + $"(largest committed {GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0:F0} MiB); experts/token {model.Model.Routing.MeanActivatedExpertsPerToken:F2}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private sealed class Reporter(Action<DynMoETrainingProgress> report) : IProgress<DynMoETrainingProgress>
    {
        public void Report(DynMoETrainingProgress value) => report(value);
    }

    /// <summary>Peak resident memory of this process in MiB (VmHWM on Linux), as the other harnesses read it.</summary>
    public static double PeakResidentMiB() => Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    /// <summary>Resident memory of this process now, in MiB (VmRSS on Linux).</summary>
    public static double ResidentMiB() => Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    /// <summary>
    /// The managed scorer at the text defaults (width 64, 2 blocks, 4 heads, top-any MoE FFN in block 2, trained 8 steps on
    /// synthetic ids so about two experts fire per token): one 256-token document through <c>Forward</c> (CPU µs, median of
    /// 200), and 256 documents through <c>ForwardBatch</c> on one thread (CPU) and <c>ForwardBatchParallel</c> on 2 threads (wall).
    /// </summary>
    public static void ScorerSpeed(string[] args)
    {
        var shape = ParseShape(args);
        if (Array.IndexOf(args, "--kernels") >= 0)
            Kernels();
        NativeReproducibility.Ensure();
        torch.set_num_threads(1);
        var random = new Random(1);
        var x = Batch(shape, random);
        var y = torch.tensor(Enumerable.Range(0, shape.Batch).Select(i => (float)(i % 2)).ToArray());
        using var trainee = new Trainee("DynMoE", CreateEncoder(shape, GatingKind.TopAny, shape.Hidden), Array.Empty<double>());
        for (int i = 0; i < 8; i++)
            trainee.Step(x, y);
        trainee.Network.eval();
        var compiled = Microsoft.ML.DynMoE.Inference.CompiledTransformerEncoder.FromNetwork((TransformerEncoder)trainee.Network);
        var documents = Enumerable.Range(0, 256).Select(_ => Floats(Batch(shape with { Batch = 1 }, random))).ToArray();
        var scratch = compiled.CreateScratch();
        var output = new float[compiled.OutputDimension];
        var single = new List<double>();
        for (int i = 0; i < 220; i++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            compiled.Forward(documents[i % documents.Length], output, scratch);
            if (i >= 20)
                single.Add((Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds);
        }

        // Environment.CpuUsage has a coarse clock; the loop of 200 also gives the mean.
        var loopCpu = Environment.CpuUsage.TotalTime;
        for (int i = 0; i < 200; i++)
            compiled.Forward(documents[i % documents.Length], output, scratch);
        double meanSingle = (Environment.CpuUsage.TotalTime - loopCpu).TotalMilliseconds / 200;
        Console.WriteLine($"single document, {shape.Tokens} tokens: median {Median(single):F2} ms, mean {meanSingle:F2} ms CPU");
        BatchScoring(compiled, documents);
    }

    private static float[] Floats(Tensor t) => t.data<float>().ToArray();

    private static void BatchScoring(Microsoft.ML.DynMoE.Inference.CompiledTransformerEncoder compiled, float[][] documents)
    {
        var inputs = documents.Select(d => (ReadOnlyMemory<float>)d).ToArray();
        var outputs = new float[documents.Length * compiled.OutputDimension];
        var batchScratch = compiled.CreateBatchScratch(16);
        double best = double.MaxValue, bestWall = double.MaxValue;
        for (int round = 0; round < 4; round++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            compiled.ForwardBatch(inputs, outputs, batchScratch);
            best = Math.Min(best, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds);
            var watch = Stopwatch.StartNew();
            compiled.ForwardBatchParallel(inputs, outputs, threads: 2);
            bestWall = Math.Min(bestWall, watch.Elapsed.TotalSeconds);
        }

        Console.WriteLine($"batch of {documents.Length}: {documents.Length / best:F0} documents per CPU-second (ForwardBatch, 16 per pass, 1 thread); "
            + $"{documents.Length / bestWall:F0} documents/s wall on 2 threads (ForwardBatchParallel)");
    }

    private static void Kernels()
    {
        void Time(string what, double flops, Action action)
        {
            action();
            var watch = Stopwatch.StartNew();
            var cpu = Environment.CpuUsage.TotalTime;
            int n = 0;
            while (watch.ElapsedMilliseconds < 1000) { action(); n++; }
            double ms = (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds / n;
            Console.WriteLine($"{what}: {ms * 1000:F1} µs{(flops > 0 ? $", {flops / ms / 1e6:F1} GFLOP/s" : "")}");
        }
        var random = new Random(1);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var a = R(256 * 256); var b = R(256 * 256); var c = new float[256 * 256];
        foreach (var (m, n, k) in new[] { (256, 192, 64), (256, 64, 64), (256, 128, 64), (256, 64, 128), (256, 256, 16), (256, 16, 256) })
            Time($"GEMM {m}×{n}×{k}", 2.0 * m * n * k, () => Microsoft.ML.DynMoE.Inference.BlockedKernels.Gemm(m, n, k, a, k, b, n, c, n, default));
        var blocks = new List<(string, Action)>();
        Time("layer norm of 256 rows of 64", 0, () => { });
        Time("softmax of 256 rows of 256", 0, () => { for (int r = 0; r < 256; r++) Microsoft.ML.DynMoE.Inference.BlockedKernels.ScaledSoftmax(c.AsSpan(r * 256, 256), 0.25f); });
        var g = R(256 * 128); var t = new float[g.Length];
        Time("GELU of 256×128", 0, () => Microsoft.ML.DynMoE.Inference.BlockedKernels.Activate(ExpertActivation.Gelu, g, t));
    }
}
