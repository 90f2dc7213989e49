"""Prints a presigned PUT URL made by botocore's S3 SigV2 query signer (HmacV1QueryAuth), the independent
reference for localaws's S3 receiver. Usage: presign_s3v2.py ENDPOINT BUCKET KEY ACCESS_KEY SECRET EXPIRES_IN"""
import sys

import boto3
from botocore.config import Config


def main():
    endpoint, bucket, key, access_key, secret, expires_in = sys.argv[1:7]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3", s3={"addressing_style": "path"}),
    )
    print(s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                    ExpiresIn=int(expires_in)))


if __name__ == "__main__":
    main()
