using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace BreastCancerDetection;

public partial class BreastCancerModel
{
    /// <summary>Model input: one row of the breast-cancer CSV (mean, standard error and worst value of 10 nucleus measurements).</summary>
    #region model input class
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public bool Label { get; set; }

        [LoadColumn(1)]
        [ColumnName(@"mean_radius")]
        public float MeanRadius { get; set; }

        [LoadColumn(2)]
        [ColumnName(@"mean_texture")]
        public float MeanTexture { get; set; }

        [LoadColumn(3)]
        [ColumnName(@"mean_perimeter")]
        public float MeanPerimeter { get; set; }

        [LoadColumn(4)]
        [ColumnName(@"mean_area")]
        public float MeanArea { get; set; }

        [LoadColumn(5)]
        [ColumnName(@"mean_smoothness")]
        public float MeanSmoothness { get; set; }

        [LoadColumn(6)]
        [ColumnName(@"mean_compactness")]
        public float MeanCompactness { get; set; }

        [LoadColumn(7)]
        [ColumnName(@"mean_concavity")]
        public float MeanConcavity { get; set; }

        [LoadColumn(8)]
        [ColumnName(@"mean_concave_points")]
        public float MeanConcavePoints { get; set; }

        [LoadColumn(9)]
        [ColumnName(@"mean_symmetry")]
        public float MeanSymmetry { get; set; }

        [LoadColumn(10)]
        [ColumnName(@"mean_fractal_dimension")]
        public float MeanFractalDimension { get; set; }

        [LoadColumn(11)]
        [ColumnName(@"radius_error")]
        public float RadiusError { get; set; }

        [LoadColumn(12)]
        [ColumnName(@"texture_error")]
        public float TextureError { get; set; }

        [LoadColumn(13)]
        [ColumnName(@"perimeter_error")]
        public float PerimeterError { get; set; }

        [LoadColumn(14)]
        [ColumnName(@"area_error")]
        public float AreaError { get; set; }

        [LoadColumn(15)]
        [ColumnName(@"smoothness_error")]
        public float SmoothnessError { get; set; }

        [LoadColumn(16)]
        [ColumnName(@"compactness_error")]
        public float CompactnessError { get; set; }

        [LoadColumn(17)]
        [ColumnName(@"concavity_error")]
        public float ConcavityError { get; set; }

        [LoadColumn(18)]
        [ColumnName(@"concave_points_error")]
        public float ConcavePointsError { get; set; }

        [LoadColumn(19)]
        [ColumnName(@"symmetry_error")]
        public float SymmetryError { get; set; }

        [LoadColumn(20)]
        [ColumnName(@"fractal_dimension_error")]
        public float FractalDimensionError { get; set; }

        [LoadColumn(21)]
        [ColumnName(@"worst_radius")]
        public float WorstRadius { get; set; }

        [LoadColumn(22)]
        [ColumnName(@"worst_texture")]
        public float WorstTexture { get; set; }

        [LoadColumn(23)]
        [ColumnName(@"worst_perimeter")]
        public float WorstPerimeter { get; set; }

        [LoadColumn(24)]
        [ColumnName(@"worst_area")]
        public float WorstArea { get; set; }

        [LoadColumn(25)]
        [ColumnName(@"worst_smoothness")]
        public float WorstSmoothness { get; set; }

        [LoadColumn(26)]
        [ColumnName(@"worst_compactness")]
        public float WorstCompactness { get; set; }

        [LoadColumn(27)]
        [ColumnName(@"worst_concavity")]
        public float WorstConcavity { get; set; }

        [LoadColumn(28)]
        [ColumnName(@"worst_concave_points")]
        public float WorstConcavePoints { get; set; }

        [LoadColumn(29)]
        [ColumnName(@"worst_symmetry")]
        public float WorstSymmetry { get; set; }

        [LoadColumn(30)]
        [ColumnName(@"worst_fractal_dimension")]
        public float WorstFractalDimension { get; set; }
    }
    #endregion

    /// <summary>Model output: the input columns plus the features, the decision, its raw score and its probability.</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"Label")]
        public bool Label { get; set; }

        [ColumnName(@"mean_radius")]
        public float MeanRadius { get; set; }

        [ColumnName(@"mean_texture")]
        public float MeanTexture { get; set; }

        [ColumnName(@"mean_perimeter")]
        public float MeanPerimeter { get; set; }

        [ColumnName(@"mean_area")]
        public float MeanArea { get; set; }

        [ColumnName(@"mean_smoothness")]
        public float MeanSmoothness { get; set; }

        [ColumnName(@"mean_compactness")]
        public float MeanCompactness { get; set; }

        [ColumnName(@"mean_concavity")]
        public float MeanConcavity { get; set; }

        [ColumnName(@"mean_concave_points")]
        public float MeanConcavePoints { get; set; }

        [ColumnName(@"mean_symmetry")]
        public float MeanSymmetry { get; set; }

        [ColumnName(@"mean_fractal_dimension")]
        public float MeanFractalDimension { get; set; }

        [ColumnName(@"radius_error")]
        public float RadiusError { get; set; }

        [ColumnName(@"texture_error")]
        public float TextureError { get; set; }

        [ColumnName(@"perimeter_error")]
        public float PerimeterError { get; set; }

        [ColumnName(@"area_error")]
        public float AreaError { get; set; }

        [ColumnName(@"smoothness_error")]
        public float SmoothnessError { get; set; }

        [ColumnName(@"compactness_error")]
        public float CompactnessError { get; set; }

        [ColumnName(@"concavity_error")]
        public float ConcavityError { get; set; }

        [ColumnName(@"concave_points_error")]
        public float ConcavePointsError { get; set; }

        [ColumnName(@"symmetry_error")]
        public float SymmetryError { get; set; }

        [ColumnName(@"fractal_dimension_error")]
        public float FractalDimensionError { get; set; }

        [ColumnName(@"worst_radius")]
        public float WorstRadius { get; set; }

        [ColumnName(@"worst_texture")]
        public float WorstTexture { get; set; }

        [ColumnName(@"worst_perimeter")]
        public float WorstPerimeter { get; set; }

        [ColumnName(@"worst_area")]
        public float WorstArea { get; set; }

        [ColumnName(@"worst_smoothness")]
        public float WorstSmoothness { get; set; }

        [ColumnName(@"worst_compactness")]
        public float WorstCompactness { get; set; }

        [ColumnName(@"worst_concavity")]
        public float WorstConcavity { get; set; }

        [ColumnName(@"worst_concave_points")]
        public float WorstConcavePoints { get; set; }

        [ColumnName(@"worst_symmetry")]
        public float WorstSymmetry { get; set; }

        [ColumnName(@"worst_fractal_dimension")]
        public float WorstFractalDimension { get; set; }

        [ColumnName(@"Features")]
        public float[] Features { get; set; } = Array.Empty<float>();

        [ColumnName(@"PredictedLabel")]
        public bool PredictedLabel { get; set; }

        [ColumnName(@"Score")]
        public float Score { get; set; }

        [ColumnName(@"Probability")]
        public float Probability { get; set; }
    }
    #endregion

    /// <summary>Names of the two classes (the label is 1 for malignant).</summary>
    public const string PositiveClass = "malignant";
    public const string NegativeClass = "benign";

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("BreastCancerModel.mlnet");

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

    /// <summary>Predicts one tumour.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Predicts one tumour and returns both classes with their probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> PredictAllLabels(ModelInput input)
        => GetSortedScoresWithLabels(PredictEngine.Value.Predict(input));

    /// <summary>Both classes with their probability, most likely first.</summary>
    public static IOrderedEnumerable<KeyValuePair<string, float>> GetSortedScoresWithLabels(ModelOutput result)
        => new Dictionary<string, float>
        {
            [PositiveClass] = result.Probability,
            [NegativeClass] = 1 - result.Probability,
        }.OrderByDescending(pair => pair.Value);
}
