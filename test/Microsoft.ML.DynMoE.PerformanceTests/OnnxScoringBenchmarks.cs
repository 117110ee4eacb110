using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// Scoring on digits three ways in one run: the DynMoE model through ML.NET (managed scorer), the same model exported
/// to ONNX and run by ONNX Runtime (all graph optimisations, one intra-op thread), and LightGbm (100 trees) through
/// ML.NET. Single row: one prediction per call. Batch: all 1,797 rows (rows/s = 1,797 / time); ONNX Runtime takes them
/// as one [1797, 64] tensor. <see cref="RunInterleaved"/> times the three in alternation, for ratios on a shared machine.
/// </summary>
[Config(typeof(BenchmarkJobs.Scoring))]
public class OnnxScoringBenchmarks
{
    private const int Features = 64;

    public sealed class Digit
    {
        [VectorType(64)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    private IDataView _data = null!;
    private float[][] _rows = null!;
    private ITransformer _dynMoE = null!;
    private ITransformer _lightGbm = null!;
    private PredictionEngine<Digit, Prediction> _dynMoEEngine = null!;
    private PredictionEngine<Digit, Prediction> _lightGbmEngine = null!;
    private InferenceSession _session = null!;
    private float[] _one = null!;
    private OrtValue _oneInput = null!;
    private float[] _all = null!;
    private OrtValue _allInput = null!;
    private RunOptions _runOptions = null!;
    private string _onnxPath = "";
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        _data = BenchmarkModels.LoadDigits(ml);
        _dynMoE = BenchmarkModels.Trainer(ml, "DynMoE", epochs: 10, batchSize: 64).Fit(_data);
        _lightGbm = BenchmarkModels.Trainer(ml, "LightGbm", epochs: 10, batchSize: 64).Fit(_data);
        _dynMoEEngine = ml.Model.CreatePredictionEngine<Digit, Prediction>(_dynMoE, ignoreMissingColumns: true);
        _lightGbmEngine = ml.Model.CreatePredictionEngine<Digit, Prediction>(_lightGbm, ignoreMissingColumns: true);
        _rows = _data.GetColumn<float[]>("Features").ToArray();

        _onnxPath = Path.Combine(Path.GetTempPath(), $"dynmoe-bench-{Guid.NewGuid():N}.onnx");
        // ML.NET's converter makes every column of the data it is given a graph input: give it the features alone.
        var features = ml.Data.LoadFromEnumerable(_rows.Select(r => new Digit { Features = r }));
        using (var stream = File.Create(_onnxPath))
            ml.Model.ConvertToOnnx(_dynMoE, features, stream, "Score");
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(_onnxPath, options);
        _runOptions = new RunOptions();
        _one = new float[Features];
        _oneInput = OrtValue.CreateTensorValueFromMemory(_one, new long[] { 1, Features });
        _all = _rows.SelectMany(r => r).ToArray();
        _allInput = OrtValue.CreateTensorValueFromMemory(_all, new long[] { _rows.Length, Features });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oneInput.Dispose();
        _allInput.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        File.Delete(_onnxPath);
    }

    private static readonly string[] InputNames = { "Features" };
    private static readonly string[] ScoreOutput = { "Score.output" }; // ML.NET's converter names outputs <column>.output

    [Benchmark]
    public float SingleRowManaged() => _dynMoEEngine.Predict(new Digit { Features = NextRow() }).Score[0];

    [Benchmark]
    public float SingleRowOnnxRuntime()
    {
        NextRow().CopyTo(_one, 0);
        using var outputs = _session.Run(_runOptions, InputNames, new[] { _oneInput }, ScoreOutput);
        return outputs[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark]
    public float SingleRowLightGbm() => _lightGbmEngine.Predict(new Digit { Features = NextRow() }).Score[0];

    [Benchmark]
    public float BatchManaged1797Rows() => SumFirstScores(_dynMoE);

    [Benchmark]
    public float BatchOnnxRuntime1797Rows()
    {
        using var outputs = _session.Run(_runOptions, InputNames, new[] { _allInput }, ScoreOutput);
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        float sum = 0;
        for (int i = 0; i < scores.Length; i += 10)
            sum += scores[i];
        return sum;
    }

    [Benchmark]
    public float BatchLightGbm1797Rows() => SumFirstScores(_lightGbm);

    private float SumFirstScores(ITransformer model)
    {
        float sum = 0;
        foreach (var score in model.Transform(_data).GetColumn<VBuffer<float>>("Score"))
            sum += score.GetItemOrDefault(0);
        return sum;
    }

    private float[] NextRow()
    {
        var row = _rows[_next];
        _next = (_next + 1) % _rows.Length;
        return row;
    }

    /// <summary>
    /// <c>-- --onnx</c>: the six cases in alternation (round-robin, <paramref name="rounds"/> rounds), median per case,
    /// so the three scorers share the same machine load; prints latency, rows/s and the ratios to the managed scorer.
    /// </summary>
    public static void RunInterleaved(int rounds = 15)
    {
        var bench = new OnnxScoringBenchmarks();
        bench.Setup();
        const int singleCalls = 2000;
        var single = new (string Name, Func<float> Call)[]
        {
            ("managed (ML.NET)", bench.SingleRowManaged),
            ("ONNX Runtime", bench.SingleRowOnnxRuntime),
            ("LightGbm (ML.NET)", bench.SingleRowLightGbm),
        };
        var batch = new (string Name, Func<float> Call)[]
        {
            ("managed (ML.NET)", bench.BatchManaged1797Rows),
            ("ONNX Runtime", bench.BatchOnnxRuntime1797Rows),
            ("LightGbm (ML.NET)", bench.BatchLightGbm1797Rows),
        };
        var singleTimes = single.Select(_ => new List<double>()).ToArray();
        var batchTimes = batch.Select(_ => new List<double>()).ToArray();
        var watch = new Stopwatch();
        for (int round = -2; round < rounds; round++) // two warm-up rounds
        {
            for (int c = 0; c < single.Length; c++)
            {
                watch.Restart();
                for (int i = 0; i < singleCalls; i++)
                    single[c].Call();
                if (round >= 0)
                    singleTimes[c].Add(watch.Elapsed.TotalMilliseconds * 1000 / singleCalls);
            }
            for (int c = 0; c < batch.Length; c++)
            {
                watch.Restart();
                batch[c].Call();
                if (round >= 0)
                    batchTimes[c].Add(watch.Elapsed.TotalSeconds);
            }
        }
        var routing = ((IDynMoEModelParameters)((ISingleFeaturePredictionTransformer<object>)bench._dynMoE).Model).Routing;
        bench.Cleanup();

        static double Median(List<double> values) => values.OrderBy(v => v).ElementAt(values.Count / 2);
        double managedSingle = Median(singleTimes[0]), managedBatch = Median(batchTimes[0]);
        Console.WriteLine($"digits, {bench._rows.Length} rows x {Features} features; DynMoE top-any, 2 layers; medians of {rounds} interleaved rounds");
        Console.WriteLine(FormattableString.Invariant(
            $"active experts per layer [{string.Join(", ", routing.Layers.Select(l => l.ActiveExperts))}] (all computed by ONNX Runtime); activated per token [{string.Join(", ", routing.Layers.Select(l => l.MeanActivatedExpertsPerToken.ToString("F2")))}] (computed by the managed scorer)"));
        Console.WriteLine($"{"scorer",-20}{"single row µs",16}{"vs managed",12}{"batch rows/s",16}{"vs managed",12}");
        for (int c = 0; c < single.Length; c++)
        {
            double s = Median(singleTimes[c]), b = Median(batchTimes[c]);
            double rowsPerSecond = bench._rows.Length / b;
            Console.WriteLine($"{single[c].Name,-20}{s,16:F1}{s / managedSingle,12:F2}{rowsPerSecond,16:N0}{managedBatch / b,12:F2}");
        }
    }
}
