#coding=utf8
# Seed 004's Python sample (QFPay Alipay online payment), copied as published.
# Changed for this platform: environment, app_code, client_key and mchid are
# read from QFPAY_ENVIRONMENT, QFPAY_APP_CODE, QFPAY_CLIENT_KEY, QFPAY_MCHID.
import urllib.request, urllib.parse, urllib.error, urllib.request, urllib.error, urllib.parse, hashlib
import requests
import datetime
import string
# API 憑證
environment = __import__('os').environ['QFPAY_ENVIRONMENT']
app_code = __import__('os').environ['QFPAY_APP_CODE']
client_key = __import__('os').environ['QFPAY_CLIENT_KEY']
# 當前時間
current_time = datetime.datetime.now().replace(microsecond=0)
print(current_time)
# 建立簽名函數
def make_req_sign(data, key):
    keys = list(data.keys())
    keys.sort()
    p = []
    for k in keys:
        v = data[k]
        p.append('%s=%s'%(k,v))
    unsign_str = ('&'.join(p) + key).encode("utf-8")
    s = hashlib.md5(unsign_str).hexdigest()
    return s.upper()
# 請求參數
txamt = '10'
txcurrcd = 'HKD'
pay_type = '801101'
auth_code='283854702356157409' #CPM only
out_trade_no = '01234567890123'
txdtm = current_time
goods_name = 'test1'
mchid = __import__('os').environ['QFPAY_MCHID']
key = client_key
#data ={'txamt': txamt, 'txcurrcd': txcurrcd, 'pay_type': pay_type, 'out_trade_no': out_trade_no, 'txdtm': txdtm, 'goods_name': goods_name, 'mchid': mchid}
data ={'txamt': txamt, 'txcurrcd': txcurrcd, 'pay_type': pay_type, 'out_trade_no': out_trade_no, 'txdtm': txdtm, 'mchid': mchid}
# 發送 POST 請求
r = requests.post(environment+"/trade/v1/payment",data=data,headers={'X-QF-APPCODE':app_code,'X-QF-SIGN':make_req_sign(data, key)})
print(r.json())
