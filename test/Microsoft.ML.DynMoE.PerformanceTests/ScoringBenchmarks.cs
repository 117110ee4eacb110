using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// Scoring on digits: one row through a <see cref="PredictionEngine{TSrc,TDst}"/>, and a batch <c>Transform</c> of all
/// 1,797 rows (rows/s = 1,797 / time), DynMoE (top-any, managed scoring) vs LightGbm (100 trees).
/// </summary>
[Config(typeof(BenchmarkJobs.Scoring))]
public class ScoringBenchmarks
{
    public sealed class Digit
    {
        [VectorType(64)] public float[] Features { get; set; } = Array.Empty<float>();
    }

    public sealed class Prediction
    {
        public float[] Score { get; set; } = Array.Empty<float>();
    }

    private ITransformer _model = null!;
    private IDataView _data = null!;
    private PredictionEngine<Digit, Prediction> _engine = null!;
    private Digit[] _rows = null!;
    private int _next;

    [Params("DynMoE", "LightGbm")]
    public string Trainer { get; set; } = "DynMoE";

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        _data = BenchmarkModels.LoadDigits(ml);
        _model = BenchmarkModels.Trainer(ml, Trainer, epochs: 10, batchSize: 64).Fit(_data);
        _engine = ml.Model.CreatePredictionEngine<Digit, Prediction>(_model, ignoreMissingColumns: true);
        _rows = _data.GetColumn<float[]>("Features").Select(f => new Digit { Features = f }).ToArray();
    }

    [Benchmark]
    public float SingleRowPredict()
    {
        var row = _rows[_next];
        _next = (_next + 1) % _rows.Length;
        return _engine.Predict(row).Score[0];
    }

    [Benchmark]
    public float BatchTransform1797Rows()
    {
        float sum = 0;
        foreach (var score in _model.Transform(_data).GetColumn<VBuffer<float>>("Score"))
            sum += score.GetItemOrDefault(0);
        return sum;
    }
}
