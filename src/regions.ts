/**
 * AWS region codes, for typed profile configs.
 *
 * @example
 * profiles: { main: { bucket: 'uploads', region: Region.EuWest1 } }
 */
export const Region = {
  UsEast1: 'us-east-1',
  UsEast2: 'us-east-2',
  UsWest1: 'us-west-1',
  UsWest2: 'us-west-2',
  AfSouth1: 'af-south-1',
  ApEast1: 'ap-east-1',
  ApEast2: 'ap-east-2',
  ApSouth1: 'ap-south-1',
  ApSouth2: 'ap-south-2',
  ApNortheast1: 'ap-northeast-1',
  ApNortheast2: 'ap-northeast-2',
  ApNortheast3: 'ap-northeast-3',
  ApSoutheast1: 'ap-southeast-1',
  ApSoutheast2: 'ap-southeast-2',
  ApSoutheast3: 'ap-southeast-3',
  ApSoutheast4: 'ap-southeast-4',
  ApSoutheast5: 'ap-southeast-5',
  ApSoutheast6: 'ap-southeast-6',
  ApSoutheast7: 'ap-southeast-7',
  CaCentral1: 'ca-central-1',
  CaWest1: 'ca-west-1',
  CnNorth1: 'cn-north-1',
  CnNorthwest1: 'cn-northwest-1',
  EuCentral1: 'eu-central-1',
  EuCentral2: 'eu-central-2',
  EuNorth1: 'eu-north-1',
  EuSouth1: 'eu-south-1',
  EuSouth2: 'eu-south-2',
  EuWest1: 'eu-west-1',
  EuWest2: 'eu-west-2',
  EuWest3: 'eu-west-3',
  IlCentral1: 'il-central-1',
  MeCentral1: 'me-central-1',
  MeSouth1: 'me-south-1',
  MxCentral1: 'mx-central-1',
  SaEast1: 'sa-east-1',
  UsGovEast1: 'us-gov-east-1',
  UsGovWest1: 'us-gov-west-1'
} as const

/** One of the AWS region codes in {@link Region}. */
export type RegionCode = typeof Region[keyof typeof Region]
