using System.IO;
using Microsoft.ML;
using Microsoft.ML.DynMoE;

namespace BreastCancerDetection;

public partial class BreastCancerModel
{
    public const string RetrainFilePath = @"samples/data/breast_cancer/data.csv";
    public const char RetrainSeparatorChar = ',';
    public const bool RetrainHasHeader = true;
    public const bool RetrainAllowQuoting = false;

    /// <summary>Trains a model on a CSV file and saves it to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, DynMoEBinaryTrainer.Options trainerOptions, string inputDataFilePath = RetrainFilePath,
        char separatorChar = RetrainSeparatorChar, bool hasHeader = RetrainHasHeader, bool allowQuoting = RetrainAllowQuoting)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, separatorChar, hasHeader, allowQuoting);
        var model = RetrainModel(mlContext, data, trainerOptions);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>Loads the CSV with the <see cref="ModelInput"/> schema (the 0/1 label loads as Boolean).</summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: allowQuoting);

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        DataViewSchema dataViewSchema = data.Schema;
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, dataViewSchema, stream);
    }

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, DynMoEBinaryTrainer.Options trainerOptions)
    {
        var pipeline = BuildPipeline(mlContext, trainerOptions);
        return pipeline.Fit(trainData);
    }

    /// <summary>
    /// The training pipeline: the 30 cell-nucleus measurements become the feature vector and DynMoE learns the Boolean
    /// label (true = malignant). No normaliser: features are standardised inside the model.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoEBinaryTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.FeatureColumnName = @"Features";
        var pipeline = mlContext.Transforms.Concatenate(@"Features", new[] {
                @"mean_radius", @"mean_texture", @"mean_perimeter", @"mean_area", @"mean_smoothness",
                @"mean_compactness", @"mean_concavity", @"mean_concave_points", @"mean_symmetry", @"mean_fractal_dimension",
                @"radius_error", @"texture_error", @"perimeter_error", @"area_error", @"smoothness_error",
                @"compactness_error", @"concavity_error", @"concave_points_error", @"symmetry_error", @"fractal_dimension_error",
                @"worst_radius", @"worst_texture", @"worst_perimeter", @"worst_area", @"worst_smoothness",
                @"worst_compactness", @"worst_concavity", @"worst_concave_points", @"worst_symmetry", @"worst_fractal_dimension" })
            .Append(mlContext.BinaryClassification.Trainers.DynMoE(trainerOptions));
        return pipeline;
    }
}
