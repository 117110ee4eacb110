using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace DigitsClassification;

public partial class DigitsModel
{
    /// <summary>Model input: one row of the digits CSV (an 8x8 image, intensities 0-16; pixel_r_c is row r, column c).</summary>
    #region model input class
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public string Label { get; set; } = "";

        [LoadColumn(1)]
        [ColumnName(@"pixel_0_0")]
        public float Pixel_0_0 { get; set; }

        [LoadColumn(2)]
        [ColumnName(@"pixel_0_1")]
        public float Pixel_0_1 { get; set; }

        [LoadColumn(3)]
        [ColumnName(@"pixel_0_2")]
        public float Pixel_0_2 { get; set; }

        [LoadColumn(4)]
        [ColumnName(@"pixel_0_3")]
        public float Pixel_0_3 { get; set; }

        [LoadColumn(5)]
        [ColumnName(@"pixel_0_4")]
        public float Pixel_0_4 { get; set; }

        [LoadColumn(6)]
        [ColumnName(@"pixel_0_5")]
        public float Pixel_0_5 { get; set; }

        [LoadColumn(7)]
        [ColumnName(@"pixel_0_6")]
        public float Pixel_0_6 { get; set; }

        [LoadColumn(8)]
        [ColumnName(@"pixel_0_7")]
        public float Pixel_0_7 { get; set; }

        [LoadColumn(9)]
        [ColumnName(@"pixel_1_0")]
        public float Pixel_1_0 { get; set; }

        [LoadColumn(10)]
        [ColumnName(@"pixel_1_1")]
        public float Pixel_1_1 { get; set; }

        [LoadColumn(11)]
        [ColumnName(@"pixel_1_2")]
        public float Pixel_1_2 { get; set; }

        [LoadColumn(12)]
        [ColumnName(@"pixel_1_3")]
        public float Pixel_1_3 { get; set; }

        [LoadColumn(13)]
        [ColumnName(@"pixel_1_4")]
        public float Pixel_1_4 { get; set; }

        [LoadColumn(14)]
        [ColumnName(@"pixel_1_5")]
        public float Pixel_1_5 { get; set; }

        [LoadColumn(15)]
        [ColumnName(@"pixel_1_6")]
        public float Pixel_1_6 { get; set; }

        [LoadColumn(16)]
        [ColumnName(@"pixel_1_7")]
        public float Pixel_1_7 { get; set; }

        [LoadColumn(17)]
        [ColumnName(@"pixel_2_0")]
        public float Pixel_2_0 { get; set; }

        [LoadColumn(18)]
        [ColumnName(@"pixel_2_1")]
        public float Pixel_2_1 { get; set; }

        [LoadColumn(19)]
        [ColumnName(@"pixel_2_2")]
        public float Pixel_2_2 { get; set; }

        [LoadColumn(20)]
        [ColumnName(@"pixel_2_3")]
        public float Pixel_2_3 { get; set; }

        [LoadColumn(21)]
        [ColumnName(@"pixel_2_4")]
        public float Pixel_2_4 { get; set; }

        [LoadColumn(22)]
        [ColumnName(@"pixel_2_5")]
        public float Pixel_2_5 { get; set; }

        [LoadColumn(23)]
        [ColumnName(@"pixel_2_6")]
        public float Pixel_2_6 { get; set; }

        [LoadColumn(24)]
        [ColumnName(@"pixel_2_7")]
        public float Pixel_2_7 { get; set; }

        [LoadColumn(25)]
        [ColumnName(@"pixel_3_0")]
        public float Pixel_3_0 { get; set; }

        [LoadColumn(26)]
        [ColumnName(@"pixel_3_1")]
        public float Pixel_3_1 { get; set; }

        [LoadColumn(27)]
        [ColumnName(@"pixel_3_2")]
        public float Pixel_3_2 { get; set; }

        [LoadColumn(28)]
        [ColumnName(@"pixel_3_3")]
        public float Pixel_3_3 { get; set; }

        [LoadColumn(29)]
        [ColumnName(@"pixel_3_4")]
        public float Pixel_3_4 { get; set; }

        [LoadColumn(30)]
        [ColumnName(@"pixel_3_5")]
        public float Pixel_3_5 { get; set; }

        [LoadColumn(31)]
        [ColumnName(@"pixel_3_6")]
        public float Pixel_3_6 { get; set; }

        [LoadColumn(32)]
        [ColumnName(@"pixel_3_7")]
        public float Pixel_3_7 { get; set; }

        [LoadColumn(33)]
        [ColumnName(@"pixel_4_0")]
        public float Pixel_4_0 { get; set; }

        [LoadColumn(34)]
        [ColumnName(@"pixel_4_1")]
        public float Pixel_4_1 { get; set; }

        [LoadColumn(35)]
        [ColumnName(@"pixel_4_2")]
        public float Pixel_4_2 { get; set; }

        [LoadColumn(36)]
        [ColumnName(@"pixel_4_3")]
        public float Pixel_4_3 { get; set; }

        [LoadColumn(37)]
        [ColumnName(@"pixel_4_4")]
        public float Pixel_4_4 { get; set; }

        [LoadColumn(38)]
        [ColumnName(@"pixel_4_5")]
        public float Pixel_4_5 { get; set; }

        [LoadColumn(39)]
        [ColumnName(@"pixel_4_6")]
        public float Pixel_4_6 { get; set; }

        [LoadColumn(40)]
        [ColumnName(@"pixel_4_7")]
        public float Pixel_4_7 { get; set; }

        [LoadColumn(41)]
        [ColumnName(@"pixel_5_0")]
        public float Pixel_5_0 { get; set; }

        [LoadColumn(42)]
        [ColumnName(@"pixel_5_1")]
        public float Pixel_5_1 { get; set; }

        [LoadColumn(43)]
        [ColumnName(@"pixel_5_2")]
        public float Pixel_5_2 { get; set; }

        [LoadColumn(44)]
        [ColumnName(@"pixel_5_3")]
        public float Pixel_5_3 { get; set; }

        [LoadColumn(45)]
        [ColumnName(@"pixel_5_4")]
        public float Pixel_5_4 { get; set; }

        [LoadColumn(46)]
        [ColumnName(@"pixel_5_5")]
        public float Pixel_5_5 { get; set; }

        [LoadColumn(47)]
        [ColumnName(@"pixel_5_6")]
        public float Pixel_5_6 { get; set; }

        [LoadColumn(48)]
        [ColumnName(@"pixel_5_7")]
        public float Pixel_5_7 { get; set; }

        [LoadColumn(49)]
        [ColumnName(@"pixel_6_0")]
        public float Pixel_6_0 { get; set; }

        [LoadColumn(50)]
        [ColumnName(@"pixel_6_1")]
        public float Pixel_6_1 { get; set; }

        [LoadColumn(51)]
        [ColumnName(@"pixel_6_2")]
        public float Pixel_6_2 { get; set; }

        [LoadColumn(52)]
        [ColumnName(@"pixel_6_3")]
        public float Pixel_6_3 { get; set; }

        [LoadColumn(53)]
        [ColumnName(@"pixel_6_4")]
        public float Pixel_6_4 { get; set; }

        [LoadColumn(54)]
        [ColumnName(@"pixel_6_5")]
        public float Pixel_6_5 { get; set; }

        [LoadColumn(55)]
        [ColumnName(@"pixel_6_6")]
        public float Pixel_6_6 { get; set; }

        [LoadColumn(56)]
        [ColumnName(@"pixel_6_7")]
        public float Pixel_6_7 { get; set; }

        [LoadColumn(57)]
        [ColumnName(@"pixel_7_0")]
        public float Pixel_7_0 { get; set; }

        [LoadColumn(58)]
        [ColumnName(@"pixel_7_1")]
        public float Pixel_7_1 { get; set; }

        [LoadColumn(59)]
        [ColumnName(@"pixel_7_2")]
        public float Pixel_7_2 { get; set; }

        [LoadColumn(60)]
        [ColumnName(@"pixel_7_3")]
        public float Pixel_7_3 { get; set; }

        [LoadColumn(61)]
        [ColumnName(@"pixel_7_4")]
        public float Pixel_7_4 { get; set; }

        [LoadColumn(62)]
        [ColumnName(@"pixel_7_5")]
        public float Pixel_7_5 { get; set; }

        [LoadColumn(63)]
        [ColumnName(@"pixel_7_6")]
        public float Pixel_7_6 { get; set; }

        [LoadColumn(64)]
        [ColumnName(@"pixel_7_7")]
        public float Pixel_7_7 { get; set; }
    }
    #endregion

    /// <summary>Model output: the input columns plus the features, the predicted digit and one probability per class.</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"Label")]
        public uint Label { get; set; }

        [ColumnName(@"pixel_0_0")]
        public float Pixel_0_0 { get; set; }

        [ColumnName(@"pixel_0_1")]
        public float Pixel_0_1 { get; set; }

        [ColumnName(@"pixel_0_2")]
        public float Pixel_0_2 { get; set; }

        [ColumnName(@"pixel_0_3")]
        public float Pixel_0_3 { get; set; }

        [ColumnName(@"pixel_0_4")]
        public float Pixel_0_4 { get; set; }

        [ColumnName(@"pixel_0_5")]
        public float Pixel_0_5 { get; set; }

        [ColumnName(@"pixel_0_6")]
        public float Pixel_0_6 { get; set; }

        [ColumnName(@"pixel_0_7")]
        public float Pixel_0_7 { get; set; }

        [ColumnName(@"pixel_1_0")]
        public float Pixel_1_0 { get; set; }

        [ColumnName(@"pixel_1_1")]
        public float Pixel_1_1 { get; set; }

        [ColumnName(@"pixel_1_2")]
        public float Pixel_1_2 { get; set; }

        [ColumnName(@"pixel_1_3")]
        public float Pixel_1_3 { get; set; }

        [ColumnName(@"pixel_1_4")]
        public float Pixel_1_4 { get; set; }

        [ColumnName(@"pixel_1_5")]
        public float Pixel_1_5 { get; set; }

        [ColumnName(@"pixel_1_6")]
        public float Pixel_1_6 { get; set; }

        [ColumnName(@"pixel_1_7")]
        public float Pixel_1_7 { get; set; }

        [ColumnName(@"pixel_2_0")]
        public float Pixel_2_0 { get; set; }

        [ColumnName(@"pixel_2_1")]
        public float Pixel_2_1 { get; set; }

        [ColumnName(@"pixel_2_2")]
        public float Pixel_2_2 { get; set; }

        [ColumnName(@"pixel_2_3")]
        public float Pixel_2_3 { get; set; }

        [ColumnName(@"pixel_2_4")]
        public float Pixel_2_4 { get; set; }

        [ColumnName(@"pixel_2_5")]
        public float Pixel_2_5 { get; set; }

        [ColumnName(@"pixel_2_6")]
        public float Pixel_2_6 { get; set; }

        [ColumnName(@"pixel_2_7")]
        public float Pixel_2_7 { get; set; }

        [ColumnName(@"pixel_3_0")]
        public float Pixel_3_0 { get; set; }

        [ColumnName(@"pixel_3_1")]
        public float Pixel_3_1 { get; set; }

        [ColumnName(@"pixel_3_2")]
        public float Pixel_3_2 { get; set; }

        [ColumnName(@"pixel_3_3")]
        public float Pixel_3_3 { get; set; }

        [ColumnName(@"pixel_3_4")]
        public float Pixel_3_4 { get; set; }

        [ColumnName(@"pixel_3_5")]
        public float Pixel_3_5 { get; set; }

        [ColumnName(@"pixel_3_6")]
        public float Pixel_3_6 { get; set; }

        [ColumnName(@"pixel_3_7")]
        public float Pixel_3_7 { get; set; }

        [ColumnName(@"pixel_4_0")]
        public float Pixel_4_0 { get; set; }

        [ColumnName(@"pixel_4_1")]
        public float Pixel_4_1 { get; set; }

        [ColumnName(@"pixel_4_2")]
        public float Pixel_4_2 { get; set; }

        [ColumnName(@"pixel_4_3")]
        public float Pixel_4_3 { get; set; }

        [ColumnName(@"pixel_4_4")]
        public float Pixel_4_4 { get; set; }

        [ColumnName(@"pixel_4_5")]
        public float Pixel_4_5 { get; set; }

        [ColumnName(@"pixel_4_6")]
        public float Pixel_4_6 { get; set; }

        [ColumnName(@"pixel_4_7")]
        public float Pixel_4_7 { get; set; }

        [ColumnName(@"pixel_5_0")]
        public float Pixel_5_0 { get; set; }

        [ColumnName(@"pixel_5_1")]
        public float Pixel_5_1 { get; set; }

        [ColumnName(@"pixel_5_2")]
        public float Pixel_5_2 { get; set; }

        [ColumnName(@"pixel_5_3")]
        public float Pixel_5_3 { get; set; }

        [ColumnName(@"pixel_5_4")]
        public float Pixel_5_4 { get; set; }

        [ColumnName(@"pixel_5_5")]
        public float Pixel_5_5 { get; set; }

        [ColumnName(@"pixel_5_6")]
        public float Pixel_5_6 { get; set; }

        [ColumnName(@"pixel_5_7")]
        public float Pixel_5_7 { get; set; }

        [ColumnName(@"pixel_6_0")]
        public float Pixel_6_0 { get; set; }

        [ColumnName(@"pixel_6_1")]
        public float Pixel_6_1 { get; set; }

        [ColumnName(@"pixel_6_2")]
        public float Pixel_6_2 { get; set; }

        [ColumnName(@"pixel_6_3")]
        public float Pixel_6_3 { get; set; }

        [ColumnName(@"pixel_6_4")]
        public float Pixel_6_4 { get; set; }

        [ColumnName(@"pixel_6_5")]
        public float Pixel_6_5 { get; set; }

        [ColumnName(@"pixel_6_6")]
        public float Pixel_6_6 { get; set; }

        [ColumnName(@"pixel_6_7")]
        public float Pixel_6_7 { get; set; }

        [ColumnName(@"pixel_7_0")]
        public float Pixel_7_0 { get; set; }

        [ColumnName(@"pixel_7_1")]
        public float Pixel_7_1 { get; set; }

        [ColumnName(@"pixel_7_2")]
        public float Pixel_7_2 { get; set; }

        [ColumnName(@"pixel_7_3")]
        public float Pixel_7_3 { get; set; }

        [ColumnName(@"pixel_7_4")]
        public float Pixel_7_4 { get; set; }

        [ColumnName(@"pixel_7_5")]
        public float Pixel_7_5 { get; set; }

        [ColumnName(@"pixel_7_6")]
        public float Pixel_7_6 { get; set; }

        [ColumnName(@"pixel_7_7")]
        public float Pixel_7_7 { get; set; }

        [ColumnName(@"Features")]
        public float[] Features { get; set; } = Array.Empty<float>();

        [ColumnName(@"PredictedLabel")]
        public string PredictedLabel { get; set; } = "";

        [ColumnName(@"Score")]
        public float[] Score { get; set; } = Array.Empty<float>();
    }
    #endregion

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("DigitsModel.mlnet");

    /// <summary>
    /// Created once, on first use, thread-safely. A <see cref="PredictionEngine{TSrc,TDst}"/> itself serves one thread at a
    /// time; for a web server use <c>PredictionEnginePool</c> from Microsoft.Extensions.ML.
    /// </summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(), true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }

    /// <summary>Predicts the digit of one image.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Predicts one image and returns every digit with its probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input)
        => GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Pairs each score with its class name, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
    {
        var labels = GetLabels();
        var scored = new Dictionary<string, float>();
        for (int i = 0; i < labels.Count && i < result.Score.Length; i++)
            scored[labels[i]] = result.Score[i];
        return scored.OrderByDescending(pair => pair.Value);
    }

    /// <summary>The class names, in score order: the key values of the Label column in the model's output schema.</summary>
    private static IReadOnlyList<string> GetLabels()
    {
        var labelColumn = PredictEngine.Value.OutputSchema.GetColumnOrNull(@"Label")
            ?? throw new InvalidOperationException("The model's output has no Label column.");
        VBuffer<ReadOnlyMemory<char>> keyNames = default;
        labelColumn.GetKeyValues(ref keyNames);
        return keyNames.DenseValues().Select(name => name.ToString()).ToList();
    }
}
